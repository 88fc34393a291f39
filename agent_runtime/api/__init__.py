"""The agent's HTTP API: messages from the router, health, and the knowledge index."""
