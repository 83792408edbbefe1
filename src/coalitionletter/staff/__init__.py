"""Staff console accounts: passwords, one-time links, sessions and the failed-login throttle."""
