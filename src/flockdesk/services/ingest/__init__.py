"""Ingest: platform pages and imported files become stored, threaded, triaged messages, each exactly once."""
