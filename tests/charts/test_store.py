"""The conversation store in the chart: where the router and the migration Job find its URL
(a Secret, never a value), the Helm hook that upgrades its schema and how it waits for a
CloudNativePG Cluster of the same release, and the values the schema refuses."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from katha_chart import CHART, NAMESPACE, RELEASE, SCENARIOS, HelmError, Manifest, env_of, helm, one

from router.settings import RouterSettings

RenderWith = Callable[[dict[str, Any]], list[Manifest]]
Rendered = Callable[[str], list[Manifest]]
CNPG_URL = {"secretKeyRef": {"name": "katha-store-app", "key": "uri"}}
EXTERNAL_URL = {"secretKeyRef": {"name": "katha-store", "key": "url"}}


def migrations_job(manifests: list[Manifest]) -> Manifest:
    return one(manifests, "Job", "katha-store-migrations")


def container(workload: Manifest) -> dict[str, Any]:
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    return dict(only)


@pytest.mark.parametrize(
    ("scenario", "url"), [("store-cloudnativepg", CNPG_URL), ("store-external", EXTERNAL_URL)]
)
def test_router_and_migrations_read_the_store_url_from_one_secret(
    scenario: str, url: dict[str, Any], rendered: Rendered
) -> None:
    manifests = rendered(scenario)
    assert env_of(one(manifests, "Deployment", "katha-router"))["KATHA_ROUTER_STORE_URL"] == url
    job = migrations_job(manifests)
    assert env_of(job) == {"KATHA_STORE_URL": url}
    assert container(job)["args"] == ["python", "-m", "katha.store", "upgrade"]
    # The URL carries a password: the chart writes it nowhere (no Secret, no ConfigMap).
    for manifest in manifests:
        if manifest["kind"] != "CustomResourceDefinition":  # their docs show a URL's form
            assert "postgresql://" not in yaml.safe_dump(manifest), manifest["metadata"]["name"]
    stores = [
        m
        for m in manifests
        if m["kind"] in {"Secret", "ConfigMap"} and "store" in m["metadata"]["name"]
    ]
    assert not stores


def test_without_the_store_nothing_of_it_is_rendered(rendered: Rendered) -> None:
    manifests = rendered("default")
    assert "KATHA_ROUTER_STORE_URL" not in env_of(one(manifests, "Deployment", "katha-router"))
    assert not [m for m in manifests if m["kind"] in {"Job", "Cluster"}]
    assert not [m for m in manifests if "store" in m["metadata"]["name"]]


def test_the_router_has_a_setting_for_the_store_url() -> None:
    """KATHA_ROUTER_STORE_URL is the router's `store_url`: a name it does not define would
    be ignored, and the router would run without history."""
    assert "store_url" in RouterSettings.model_fields


def test_cloudnativepg_cluster_is_rendered_as_the_values_say(rendered: Rendered) -> None:
    cluster = one(rendered("store-cloudnativepg"), "Cluster", "katha-store")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["metadata"]["namespace"] == NAMESPACE
    assert cluster["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert cluster["spec"] == {
        "instances": 2,
        "storage": {"size": "5Gi", "storageClass": "fast"},
        "bootstrap": {"initdb": {"database": "katha", "owner": "katha"}},
    }
    assert not [m for m in rendered("store-external") if m["kind"] == "Cluster"]


def test_cluster_may_be_left_to_helm_uninstall(render_with: RenderWith) -> None:
    values = {"store": {"enabled": True, "cloudNativePG": {"enabled": True, "keep": False}}}
    cluster = one(render_with(values), "Cluster")
    assert "annotations" not in cluster["metadata"]
    assert "storageClass" not in cluster["spec"]["storage"], "empty: the cluster default"


@pytest.mark.parametrize("scenario", ["store-cloudnativepg", "store-external"])
def test_migrations_run_after_install_and_before_upgrade_and_retry(
    scenario: str, rendered: Rendered
) -> None:
    job = migrations_job(rendered(scenario))
    assert job["metadata"]["annotations"] == {
        # pre-install would wait for a Cluster this very install creates afterwards.
        "helm.sh/hook": "post-install,pre-upgrade",
        "helm.sh/hook-weight": "-5",
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
    }
    spec = job["spec"]
    assert spec["backoffLimit"] == 8, "a new Cluster refuses connections for a while"
    assert spec["activeDeadlineSeconds"] == 600
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    labels = spec["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "store-migrations"


def render_upgrade(values: dict[str, Any], tmp: Path) -> list[Manifest]:
    """`helm template --is-upgrade`: an upgrade where `lookup` finds nothing, as when the
    upgrade itself turns the CloudNativePG Cluster on."""
    text = helm(
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--is-upgrade",
        values=values,
        tmp=tmp,
    )
    return [document for document in yaml.safe_load_all(text) if document]


@pytest.mark.parametrize(
    ("scenario", "hooks"),
    [
        # The Cluster comes with this upgrade: pre-upgrade would wait for it in vain.
        ("store-cloudnativepg", "post-install,post-upgrade"),
        # The platform team's PostgreSQL is there already: migrate before the new router.
        ("store-external", "post-install,pre-upgrade"),
    ],
)
def test_an_upgrade_that_creates_the_cluster_migrates_after_it(
    scenario: str, hooks: str, tmp_path: Path
) -> None:
    job = migrations_job(render_upgrade(SCENARIOS[scenario], tmp_path))
    assert job["metadata"]["annotations"]["helm.sh/hook"] == hooks


def test_migration_job_runs_with_the_routers_security_posture(rendered: Rendered) -> None:
    manifests = rendered("store-cloudnativepg")
    router = one(manifests, "Deployment", "katha-router")["spec"]["template"]["spec"]
    pod = migrations_job(manifests)["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False, "it never calls the API server"
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"] == router["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (job_container,) = pod["containers"]
    security = job_container["securityContext"]
    assert security == router["containers"][0]["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert job_container["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    assert job_container["image"] == router["containers"][0]["image"]
    assert {m["mountPath"] for m in job_container["volumeMounts"]} == {"/tmp"}


def test_migration_retries_and_resources_come_from_values(render_with: RenderWith) -> None:
    values = {
        "store": {
            "enabled": True,
            "urlSecretRef": {"name": "pg", "key": "dsn"},
            "migrations": {
                "backoffLimit": 3,
                "activeDeadlineSeconds": 1200,
                "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
            },
        }
    }
    job = migrations_job(render_with(values))
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"]) == (3, 1200)
    assert container(job)["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert env_of(job)["KATHA_STORE_URL"] == {"secretKeyRef": {"name": "pg", "key": "dsn"}}


@pytest.mark.parametrize(
    ("store", "complaint"),
    [
        ({"enabled": True}, "/store/urlSecretRef/name"),  # neither
        (
            {"enabled": True, "urlSecretRef": {"name": "pg"}, "cloudNativePG": {"enabled": True}},
            "/store/cloudNativePG/enabled",  # both
        ),
        ({"enabled": True, "urlSecretRef": {"name": "Postgres"}}, "/store/urlSecretRef/name"),
        ({"enabled": True, "urlSecretRef": {"name": "pg", "key": ""}}, "/store/urlSecretRef/key"),
        (
            {"enabled": True, "cloudNativePG": {"enabled": True, "instances": 0}},
            "/store/cloudNativePG/instances",
        ),
        (
            {"enabled": True, "cloudNativePG": {"enabled": True, "storage": "lots"}},
            "/store/cloudNativePG/storage",
        ),
        ({"url": "postgresql://katha:secret@pg/katha"}, "additional properties 'url'"),
        ({"networkPolicy": {"port": 0}}, "/store/networkPolicy/port"),
        ({"migrations": {"activeDeadlineSeconds": 5}}, "/store/migrations/activeDeadlineSeconds"),
    ],
)
def test_schema_refuses_a_store_without_exactly_one_url_source(
    store: dict[str, Any], complaint: str, render_with: RenderWith
) -> None:
    with pytest.raises(HelmError, match="values don't meet the specifications") as error:
        render_with({"store": store})
    assert complaint in str(error.value)


def test_a_disabled_store_may_keep_its_settings(render_with: RenderWith) -> None:
    """Turning the store off is one value: the rest may stay as it was."""
    values = {
        "store": {
            "enabled": False,
            "urlSecretRef": {"name": "pg"},
            "cloudNativePG": {"enabled": True},
        }
    }
    manifests = render_with(values)
    assert not [m for m in manifests if m["kind"] in {"Job", "Cluster"}]
