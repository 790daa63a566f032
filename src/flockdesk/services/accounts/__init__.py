"""Connected platform accounts: credentials, OAuth, sources and listening queries, API costs."""
