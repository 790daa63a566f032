"""Flockdesk: a self-hosted social customer-care desk.

Layers, outermost first: `cli` and `web` (and the `jobs` worker) call `services`; `services` hold the
product's rules and use `store` (tables, dialect-specific SQL), `domain` (pure types and rules) and
`connectors` (one package per platform behind small Protocols); `triage` labels text and knows nothing
of the store. `emulator` is a stand-in for X's API used by the tests and the demo. See docs/architecture.md.
"""
