"""The tenant agent: a LangGraph graph served by Ray Serve, one application per Business."""
