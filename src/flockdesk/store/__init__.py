"""Storage: the tables (`schema`) and their UTC column type (`types`), engines and migrations (`db`),
and every piece of dialect-specific SQL (`dialect`, `bulk`, `fulltext`, `leases`), so nothing above it
knows SQLite from PostgreSQL."""
