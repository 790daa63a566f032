"""Monitoring: spike alerts and the status of accounts, sources and spend."""
