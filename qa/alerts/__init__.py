"""Alerts: alert rules, what fires them, and their deliveries (e-mail, webhook). Reads insights, reviews and
the mirror."""
