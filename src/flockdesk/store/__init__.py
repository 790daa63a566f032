"""Storage: the tables (`schema`), engines and migrations (`db`), and every piece of dialect-specific
SQL (bulk writes, upserts, leases), so nothing above it knows SQLite from PostgreSQL."""
