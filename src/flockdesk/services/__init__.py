"""The product's rules, one subpackage per thing owned: ingest, conversations, replies, accounts, team,
monitoring (and `schedule`, the leases every worker shares). The web app, the REST API, the CLI and the
worker call these; services use the store, the domain and connectors, never the web layer."""
