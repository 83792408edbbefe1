"""Sign-on: the invitation state machine, personal links, consent and the audit of the trail."""
