"""Loaders: bytes or records in, documents out; no network or disk access in here."""
