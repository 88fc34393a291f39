"""`katha up` on a shared machine: with the default --host, what it starts (router, outbox,
sites, Ray Serve, Ray's own gRPC and metrics ports) listens on loopback only.

One exception Ray does not let us close: each Serve replica's inter-deployment gRPC server
binds `[::]:0` in Ray's own code. Ray guards it with its token-authentication interceptor
(on by default), and it speaks no HTTP/1.1.
"""

import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from katha_up import start_katha_up
from listening import Listener, listeners

BUSINESS = """\
apiVersion: katha.dev/v1alpha1
kind: Business
metadata: {name: tea-shop, namespace: demo}
spec:
  displayName: Nuwara Tea Shop
  whatsapp:
    phoneNumberId: "100000000000011"
    credentialsSecretRef: {name: tea-shop-whatsapp}
  knowledge:
    sources:
      - type: faq
        items:
          - {q: "When do you open?", a: "Every day from 8am to 6pm."}
"""
SERVE_REPLICA = "ray::ServeRepli"  # /proc/PID/comm keeps 15 characters


def _speaks_http(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=3)
    except httpx.HTTPError:
        return False
    return True


@pytest.mark.slow
def test_every_port_katha_up_opens_is_on_loopback(tmp_path: Path) -> None:
    folder, state = tmp_path / "shop", tmp_path / "state"
    folder.mkdir()
    (folder / "business.yaml").write_text(BUSINESS)
    process = start_katha_up(folder, state, tmp_path / "up.log")
    try:
        found = listeners(process.pid)
        public = [item for item in found if not item.loopback]
        replica_grpc = [item for item in public if item.process == SERVE_REPLICA]
        http_on_replica_grpc = [item.port for item in replica_grpc if _speaks_http(item.port)]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
    assert len(found) >= 8  # router, outbox, sites, Serve's proxy, GCS, raylet, …
    unexpected: list[Listener] = [item for item in public if item not in replica_grpc]
    assert unexpected == []
    assert http_on_replica_grpc == []
