"""The per-tenant LanceDB index: one schema, an incremental writer and a small reader."""
