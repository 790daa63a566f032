"""Detectors of personal data, one module per family; flockdesk.triage.sensitive is the API."""
