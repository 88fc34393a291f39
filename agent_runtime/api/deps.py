"""Dependencies the routes share."""

from typing import Annotated

from fastapi import Depends, Request

from agent_runtime.agent import Agent


def get_agent(request: Request) -> Agent:
    agent: Agent = request.app.state.agent
    return agent


AgentDep = Annotated[Agent, Depends(get_agent)]
