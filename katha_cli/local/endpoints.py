"""Keeps the routing table's agent endpoints where the agents are: a tenant whose Serve
application runs one replica is reached at that replica's own HTTP server, any other
through Serve's HTTP proxy (ray_agents.agent_endpoints).

A replica's address changes when Serve replaces it (a redeploy after a change of the
Business or its index, a crash, the autoscaler) and when a second one starts. Once a
second this thread asks Serve where each application's replicas are (and the replica
whether it is healthy) and, when that changed, has the routing-table file written again;
the router reads it within half a second. A message sent meanwhile to a replica that is
gone fails like any call to an agent that is briefly away: it waits in the router's inbox
and is tried again.
"""

import logging
import threading
from typing import TYPE_CHECKING

from katha_cli.local import ray_agents

if TYPE_CHECKING:
    from katha_cli.local.platform import LocalPlatform

POLL_SECONDS = 1.0

log = logging.getLogger(__name__)


class AgentEndpoints:
    """The thread that follows where each tenant's agent answers."""

    def __init__(self, platform: "LocalPlatform", poll_seconds: float = POLL_SECONDS) -> None:
        self._platform = platform
        self._poll = poll_seconds
        self._stop = threading.Event()
        # The follower refreshes too (after a redeploy): one look and its write at a time,
        # so an older look is never written over a newer one.
        self._looking = threading.Lock()
        self._client = ray_agents.health_client()  # one for every look
        self._thread = threading.Thread(target=self._run, name="agent-endpoints", daemon=True)

    def start(self) -> "AgentEndpoints":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        # A look still under way (the follower's, or this thread's past the join) is waited
        # for `timeout` at most; past that the client is closed by `_run` when it ends, or
        # left to the process's exit.
        if self._looking.acquire(timeout=timeout):
            try:
                self._client.close()
            finally:
                self._looking.release()

    def refresh(self) -> bool:
        """Look once; True when an endpoint changed and the routing table was rewritten."""
        platform = self._platform
        workspace = platform.workspace
        if workspace is None:
            return False
        with self._looking:
            if self._client.is_closed:  # stopped
                return False
            endpoints = ray_agents.agent_endpoints(workspace, platform.agents_url, self._client)
            return platform.use_endpoints(endpoints)

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                self.refresh()
            except Exception:  # the next look tries again; the router keeps its table
                log.exception("agent endpoints not refreshed")
        with self._looking:
            self._client.close()
