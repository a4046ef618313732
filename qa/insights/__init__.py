"""Insights: the participant report (Heify's shape), the dashboard, the team overview, the exports and the
weekly summary. Reads reviews and the mirror."""
