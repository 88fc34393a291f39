"""Helpers for tests that talk to the Kubernetes emulator: a REST client and polling."""

import base64
import builtins
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from chart_rbac import ADMIN_TOKEN, RELEASE_NAMESPACE

PLATFORM_NAMESPACE = RELEASE_NAMESPACE


class Api:
    """A small synchronous client for assertions, speaking plain Kubernetes REST; by default
    as the test's admin (creating fixtures is not what the chart's RBAC is about)."""

    def __init__(self, url: str, token: str = ADMIN_TOKEN) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        self.http = httpx.Client(base_url=url, headers=headers, timeout=10)

    @staticmethod
    def path(kind: str, namespace: str, name: str | None = None) -> str:
        paths = {
            "Business": "/apis/katha.dev/v1alpha1/namespaces/{ns}/businesses",
            "LanguageModel": "/apis/katha.dev/v1alpha1/namespaces/{ns}/languagemodels",
            "Secret": "/api/v1/namespaces/{ns}/secrets",
            "ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
            "Service": "/api/v1/namespaces/{ns}/services",
            "ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
            "PersistentVolumeClaim": "/api/v1/namespaces/{ns}/persistentvolumeclaims",
            "NetworkPolicy": "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
            "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
            "Job": "/apis/batch/v1/namespaces/{ns}/jobs",
            "Pod": "/api/v1/namespaces/{ns}/pods",
            "RayService": "/apis/ray.io/v1/namespaces/{ns}/rayservices",
            "Event": "/api/v1/namespaces/{ns}/events",
        }
        base = paths[kind].format(ns=namespace)
        return f"{base}/{name}" if name else base

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        response = self.http.get(self.path(kind, namespace, name))
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def list(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        response = self.http.get(self.path(kind, namespace))
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def list_labelled(
        self, kind: str, namespace: str, selector: str | Mapping[str, str]
    ) -> "builtins.list[dict[str, Any]]":
        """The objects whose labels match `selector`: a labelSelector string, or labels that
        must all be equal."""
        if not isinstance(selector, str):
            selector = ",".join(f"{key}={value}" for key, value in selector.items())
        response = self.http.get(self.path(kind, namespace), params={"labelSelector": selector})
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        meta = manifest["metadata"]
        response = self.http.post(self.path(manifest["kind"], meta["namespace"]), json=manifest)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def patch(self, kind: str, namespace: str, name: str, patch: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/merge-patch+json"}
        response = self.http.patch(self.path(kind, namespace, name), json=patch, headers=headers)
        response.raise_for_status()

    def patch_status(self, kind: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge `status` into the object's status, through the status subresource as a
        controller does (a merge patch replaces lists such as conditions whole)."""
        path = self.path(kind, namespace, name) + "/status"
        headers = {"Content-Type": "application/merge-patch+json"}
        response = self.http.patch(path, json={"status": status}, headers=headers)
        response.raise_for_status()

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.http.delete(self.path(kind, namespace, name)).raise_for_status()

    def route(self, namespace: str, name: str) -> dict[str, Any] | None:
        secret = self.get("Secret", PLATFORM_NAMESPACE, "katha-routes")
        key = f"route.{namespace}.{name}.json"
        data = (secret or {}).get("data") or {}
        if not data.get(key):
            return None
        document: dict[str, Any] = json.loads(base64.b64decode(data[key]))
        return document


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until `check` returns something truthy; fail with its last answer."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout}s; last: {last!r}")


def credentials_secret(namespace: str, name: str, business: str | None = None) -> dict[str, Any]:
    """WhatsApp credentials granted to `business` (default: the name without "-whatsapp")."""
    values = {
        "accessToken": "EAAG-test-access-token-0123456789",
        "appSecret": "app-secret-0123456789abcdef",
        "verifyToken": "verify-token-0123456789",
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"katha.dev/business": business or name.removesuffix("-whatsapp")},
        },
        "data": {key: base64.b64encode(v.encode()).decode() for key, v in values.items()},
    }


def kubeconfig(
    url: str,
    token: str,
    user: str,
    namespace: str = PLATFORM_NAMESPACE,
    certificate: Path | None = None,
) -> str:
    """A kubeconfig (YAML is a superset of JSON) that reaches `url` as the token's user,
    as a pod's client would with its ServiceAccount token. kubectl sends the token only
    over HTTPS, trusting `certificate`."""
    cluster: dict[str, str] = {"server": url}
    if certificate is not None:
        cluster["certificate-authority"] = str(certificate)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [
            {"name": user, "context": {"cluster": "emulator", "user": user, "namespace": namespace}}
        ],
        "current-context": user,
    }
    return json.dumps(config)
