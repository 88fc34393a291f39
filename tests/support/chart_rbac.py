"""The chart's RBAC as the API server would enforce it in tests: the Roles and bindings that
`helm template` renders for charts/katha, and one bearer token per ServiceAccount.

Clients in tests identify themselves with these tokens: the operator and the router with
their chart ServiceAccount's, the test itself (creating fixtures, asserting) as an admin.
"""

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml
from k8s_tools import tool
from rbac import Gate, Policy, User, admin, service_account

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "katha"
RELEASE = "katha"
RELEASE_NAMESPACE = "katha-system"
RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}

ADMIN_TOKEN = "test-admin-token"
OPERATOR_TOKEN = "katha-operator-token"
ROUTER_TOKEN = "katha-router-token"
TOKENS: dict[str, User] = {
    ADMIN_TOKEN: admin(),
    OPERATOR_TOKEN: service_account(RELEASE_NAMESPACE, "katha-operator"),
    ROUTER_TOKEN: service_account(RELEASE_NAMESPACE, "katha-router"),
}


class ChartRenderError(Exception):
    """helm could not render the chart; the message is what helm printed."""


def chart_rbac(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The RBAC objects `helm template` renders for the release (default values unless given)."""
    manifests: list[dict[str, Any]] = json.loads(
        _rendered_rbac(json.dumps(values or {}, sort_keys=True))
    )
    return manifests


@functools.cache
def _rendered_rbac(values_json: str) -> str:
    # helm reads JSON as YAML; the result is cached per values, as text so callers get copies.
    command = [tool("helm"), "template", RELEASE, str(CHART), "--namespace", RELEASE_NAMESPACE]
    command += ["--values", "-"]
    result = subprocess.run(
        command, input=values_json, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise ChartRenderError(result.stderr.strip() or result.stdout.strip())
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return json.dumps([doc for doc in documents if doc.get("kind") in RBAC_KINDS])


def chart_gate(values: dict[str, Any] | None = None) -> Gate:
    """An authoriser holding the chart's rules, knowing the test tokens."""
    return Gate(Policy.from_manifests(chart_rbac(values)), TOKENS)
