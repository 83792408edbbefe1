"""The web face: the Flask app factory and the sign-on pages."""
