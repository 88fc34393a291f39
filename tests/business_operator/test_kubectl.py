"""A platform engineer's path with the real kubectl binary: apply CRDs, a Secret, a Business."""

import json
import subprocess
from pathlib import Path

from k8s_tools import tool
from kube_api import Api, eventually

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = """
apiVersion: v1
kind: Secret
metadata:
  name: kandy-bakehouse-whatsapp
  namespace: tenants
  labels: {katha.dev/business: kandy-bakehouse}  # only this Business may use it
stringData:
  accessToken: EAAG-kubectl-test-token-0123456789
  appSecret: kubectl-test-app-secret
  verifyToken: kubectl-test-verify-token
"""


def kubectl(config: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [tool("kubectl"), "--kubeconfig", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_kubectl_apply_example_then_get_biz_and_children(api: Api, admin_kubeconfig: Path) -> None:
    applied = kubectl(admin_kubeconfig, "apply", "--validate=false", "-f", str(REPO_ROOT / "crds"))
    assert "businesses.katha.dev" in applied
    kubectl(admin_kubeconfig, "apply", "--validate=false", "-f", "-", stdin=SECRET)
    example = REPO_ROOT / "crds" / "examples" / "01-minimal-business.yaml"
    assert "kandy-bakehouse created" in kubectl(
        admin_kubeconfig, "apply", "--validate=false", "-f", str(example)
    )

    def phase() -> str | None:
        listed = json.loads(kubectl(admin_kubeconfig, "get", "biz", "-n", "tenants", "-o", "json"))
        items = listed["items"]
        return items[0].get("status", {}).get("phase") if items else None

    assert eventually(phase) == "Pending"
    table = kubectl(admin_kubeconfig, "get", "biz", "-n", "tenants")
    assert "kandy-bakehouse" in table
    children = kubectl(
        admin_kubeconfig,
        "get",
        "configmaps,services,persistentvolumeclaims,rayservices",
        "-n",
        "tenants",
        "-o",
        "name",
    )
    for child in (
        "configmap/kandy-bakehouse-agent-config",
        "service/kandy-bakehouse-agent",
        "persistentvolumeclaim/kandy-bakehouse-index",
        "rayservice.ray.io/kandy-bakehouse-agent",
    ):
        assert child in children
    assert api.route("tenants", "kandy-bakehouse") is not None
    # Applying the same file again changes nothing.
    assert "unchanged" in kubectl(admin_kubeconfig, "apply", "--validate=false", "-f", str(example))
    assert "deleted" in kubectl(admin_kubeconfig, "delete", "-f", str(example), "--wait=false")
    eventually(lambda: api.route("tenants", "kandy-bakehouse") is None)
