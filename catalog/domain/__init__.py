"""The catalog's domain: registry, named queries, limits, tokens. No requests, no SDK, no sqlite3."""
