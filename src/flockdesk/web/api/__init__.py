"""The REST API under /api/v1 (same services as the web pages)."""
