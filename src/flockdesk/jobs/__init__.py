"""The worker process: the registry of periodic jobs, source sweeps with their pacing, and the loop that
runs them under the shared schedule's leases."""
