"""coalitionletter: joint advocacy letters and the organisations who sign them."""

__version__ = "0.1.0"
