"""Email: messages, the outbox's states, transports and sending."""
