"""The FastAPI app for one tenant's agent, built by a factory, never at import time."""

from fastapi import FastAPI, Response

from agent_runtime.agent import Agent
from agent_runtime.api import (
    answers,
    customers,
    documents,
    health,
    index,
    messages,
    notes,
    unanswered,
)


def create_app(agent: Agent) -> FastAPI:
    app = FastAPI(title=f"Katha agent for {agent.args.tenant}", docs_url=None, redoc_url=None)
    app.state.agent = agent
    app.include_router(messages.router)
    app.include_router(notes.router)
    app.include_router(health.router)
    app.include_router(index.router)
    app.include_router(unanswered.router)
    app.include_router(documents.router)
    app.include_router(answers.router)
    app.include_router(customers.router)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body, content_type = agent.metrics.metrics.exposition()
        return Response(body, media_type=content_type)

    return app
