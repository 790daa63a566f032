"""Real-time events (issue 8): subscriptions per account, delivered events applied through the same
ingest path as polling, webhook deliveries queued for the worker, and per account live/polling status
with the event lag. The stream itself runs in the worker (jobs/stream.py)."""
