"""The web app: FastAPI pages for the team inbox, the REST API under /api/v1, security (sessions,
tokens, CSRF, headers), error mapping and middleware. Routes call services, never the store's tables."""
