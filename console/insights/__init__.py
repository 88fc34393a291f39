"""Insights: what the agent is worth to a Business, per day and per period, as JSON, CSV
and a page."""
