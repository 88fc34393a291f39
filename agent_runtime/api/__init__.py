"""The agent's HTTP API: messages and owner notes from the router, health, the index."""
