"""DESIGN.md's call-edge table as data, and a small cluster that runs every Katha workload.

Each row of the table (its "from" and "to" cells, verbatim) lists the connections it means
between roles of the test cluster; IMPLIED holds what those need besides (DNS, Ray pods
among themselves, weights); MUST_REFUSE what an enforcing CNI has to drop. The tests build
the cluster from rendered manifests (operator and chart) and evaluate the policies.
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from netpol import Cluster, Endpoint, External, Manifest, Pod, pods_of

from business_operator.render import Model, Platform, Tenant
from business_operator.render.business import render_agent_children
from business_operator.render.index import render_writer_job
from business_operator.render.language_model import render_language_model_children
from katha.api import Business, LanguageModel

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "crds" / "examples"
DESIGN = REPO_ROOT.parent / "shared" / "DESIGN.md"


@dataclass(frozen=True)
class Edge:
    source: str  # a role of the test cluster
    target: str
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Row:
    source: str  # DESIGN.md's "from" cell, verbatim
    target: str  # its "to" cell
    edges: tuple[Edge, ...]
    # What of the row no NetworkPolicy sees (API calls, volumes), or is not deployed yet.
    beyond_network: str = ""


ROWS = (
    Row(
        "Meta (internet, via Ingress)",
        "router",
        (Edge("ingress-controller", "router", 8080),),
    ),
    Row("router", "tenant agent", (Edge("router", "agents", 8000),)),
    Row("router", "Graph API (internet)", (Edge("router", "graph-api", 443),)),
    Row(
        "router, operator, console",
        "Kubernetes API",
        (
            Edge("router", "kube-api", 443),
            Edge("operator", "kube-api", 443),
            Edge("router", "kube-api", 6443),  # the `kubernetes` Service's usual target port
            Edge("operator", "kube-api", 6443),
            Edge("console", "kube-api", 443),
            Edge("console", "kube-api", 6443),
        ),
        "the console gets and server-side applies Businesses (settings, FAQs) and asks for "
        "re-index runs: its egress opens 443 and `console.networkPolicy.apiServerPorts`",
    ),
    Row(
        "KubeRay operator (its own namespace)",
        "Ray head of each agent and LanguageModel",
        (
            Edge("kuberay", "agent-heads", 8265),
            Edge("kuberay", "agent-heads", 8000),
            Edge("kuberay", "model-head", 8265),
            Edge("kuberay", "model-head", 8000),
        ),
    ),
    Row(
        "agent",
        "LanguageModel / LLM endpoint, web search, embeddings",
        (
            Edge("agents-with-model", "model", 8000),
            Edge("agents", "web", 443),  # an external LLM endpoint, SearXNG/Tavily, embeddings
        ),
    ),
    Row(
        "indexing workload",
        "the web (public addresses only), ConfigMaps, the index store",
        (Edge("indexing", "web", 443), Edge("indexing", "web", 80)),
        "ConfigMaps and the index volume are mounted by the kubelet; object storage is "
        "the web (public) or, in the cluster, a rule in networkPolicy.agents.extraEgress",
    ),
    Row(
        "Prometheus (monitoring namespace)",
        "router, agents, console",
        (
            Edge("prometheus", "router", 8080),
            Edge("prometheus", "agents", 8000),
            Edge("prometheus", "console", 9102),
        ),
    ),
    Row(
        "owner console",
        "router admin API, conversation store",
        (Edge("console", "router", 8080), Edge("console", "postgres", 5432)),
    ),
    Row(
        "operator",
        "indexing results (status)",
        (Edge("operator", "kube-api", 443),),
        "each run is a Job; its result is read from the Job's Pod status through the API "
        "server, never from the agents",
    ),
)

# What the rows need besides: name lookups, Ray's head and workers among themselves on
# any port, a model's weights, a Business's own Postgres.
IMPLIED = (
    Edge("agents", "kube-dns", 53, "UDP"),
    Edge("agents", "kube-dns", 53, "TCP"),
    Edge("model", "kube-dns", 53, "UDP"),
    *(
        edge
        for key in ("tenant-a", "tenant-c")  # the two in RayService mode
        for edge in (
            Edge(f"{key}-workers", f"{key}-head", 6379),  # GCS
            Edge(f"{key}-workers", f"{key}-head", 8265),
            Edge(f"{key}-workers", f"{key}-head", 52365),  # dashboard agent
            Edge(f"{key}-head", f"{key}-workers", 10002),  # a worker process
        )
    ),
    Edge("model-workers", "model-head", 6379),
    Edge("model-head", "model-workers", 10002),
    Edge("model", "web", 443),  # Hugging Face
    Edge("agents-with-postgres", "postgres", 5432),
    # The router writes the conversation store: DESIGN.md's architecture sketch has
    # "router ──▶ conversation store", its call-edge table no row for it yet.
    Edge("router", "postgres", 5432),
)

MUST_REFUSE = (
    # Tenants are strangers, in one namespace or two, on any port.
    *(Edge("tenant-a", "tenant-b", port) for port in (8000, 8265, 6379, 10001)),
    *(Edge("tenant-b", "tenant-a", port) for port in (8000, 8265, 6379)),
    *(Edge("tenant-c", "tenant-a", port) for port in (8000, 8265)),
    *(Edge("intruder", "agents", port) for port in (8000, 8265, 6379, 10001)),
    *(Edge("elsewhere", "agents", port) for port in (8000, 8265)),
    # The model's dashboard runs jobs on the GPUs: KubeRay only.
    *(
        Edge(source, "model-head", port)
        for source in ("agents", "intruder", "router", "operator", "prometheus", "console")
        for port in (8265, 6379, 10001)
    ),
    Edge("intruder", "model", 8000),
    Edge("prometheus-neighbour", "agents", 8000),
    Edge("agents-without-model", "model", 8000),
    Edge("prometheus", "agent-heads", 8265),
    Edge("router", "agent-heads", 8265),
    Edge("web", "agents", 8000),
    # Agents and indexing never reach metadata, private ranges, the platform's insides.
    *(
        Edge(source, target, port)
        for source in ("agents", "indexing")
        for target in ("metadata", "vpc-host", "cgnat-host", "private-172", "private-192")
        for port in (80, 443)
    ),
    Edge("agents", "metadata-v6", 80),
    Edge("agents", "cluster-public-range", 443),
    *(Edge("agents", "kube-api", port) for port in (443, 6443)),
    Edge("agents", "router", 8080),
    Edge("agents", "operator", 8080),
    Edge("agents", "console", 8080),
    Edge("agents", "web", 22),
    Edge("agents", "web", 25),
    Edge("agents", "public-dns", 53, "UDP"),
    Edge("agents-without-postgres", "postgres", 5432),
    Edge("model", "vpc-host", 443),
    Edge("model", "metadata", 80),
    Edge("model", "agents", 8000),
)

# A public range this test cluster uses for Services, configured as a cluster CIDR.
CLUSTER_PUBLIC_RANGE = "203.0.113.0/24"
EXTERNALS = {
    "graph-api": External("graph-api", "157.240.22.35"),
    "web": External("web", "93.184.215.14"),
    "web-v6": External("web-v6", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
    "public-dns": External("public-dns", "8.8.8.8"),
    "kube-api": External("kube-api", "10.0.0.2"),
    "metadata": External("metadata", "169.254.169.254"),
    "metadata-v6": External("metadata-v6", "fd00:ec2::254"),
    "vpc-host": External("vpc-host", "10.20.30.40"),
    "cgnat-host": External("cgnat-host", "100.64.7.8"),
    "private-172": External("private-172", "172.20.1.1"),
    "private-192": External("private-192", "192.168.10.10"),
    "cluster-public-range": External("cluster-public-range", "203.0.113.50"),
}
NAMESPACES = (
    "tenants",
    "shops",
    "katha-system",
    "default",
    "monitoring",
    "kube-system",
    "ingress-nginx",
    "databases",
    "elsewhere",
)
KUBERAY_POD_LABELS = {  # as the kuberay-operator Helm chart labels its pod
    "app.kubernetes.io/name": "kuberay-operator",
    "app.kubernetes.io/instance": "kuberay-operator",
    "app.kubernetes.io/component": "kuberay-operator",
}
PROMETHEUS_POD_LABELS = {  # as the Prometheus Operator labels kube-prometheus-stack's pods
    "app.kubernetes.io/name": "prometheus",
    "app.kubernetes.io/instance": "kube-prometheus-stack-prometheus",
    "app.kubernetes.io/managed-by": "prometheus-operator",
    "operator.prometheus.io/name": "kube-prometheus-stack-prometheus",
    "prometheus": "kube-prometheus-stack-prometheus",
}


def tenant(example: str, namespace: str, workload: str, platform: Platform) -> Tenant:
    business = Business.model_validate(yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text()))
    return Tenant(
        name=business.metadata.name,
        namespace=namespace,
        uid=f"uid-{business.metadata.name}",
        spec=business.spec,
        workload=workload,  # type: ignore[arg-type]
        platform=platform,
    )


def model(platform: Platform) -> Model:
    resource = LanguageModel.model_validate(
        yaml.safe_load((EXAMPLES / "03-language-model.yaml").read_text())
    )
    return Model(
        name=resource.metadata.name,
        namespace=platform.namespace,
        uid="uid-model",
        spec=resource.spec,
        platform=platform,
    )


@dataclass
class World:
    """Pods by role, and every NetworkPolicy in force."""

    cluster: Cluster
    roles: dict[str, list[Endpoint]] = field(default_factory=dict)

    def endpoints(self, role: str) -> list[Endpoint]:
        assert self.roles.get(role), f"no pod or address plays {role!r}"
        return self.roles[role]

    def verdicts(
        self, edge: Edge, *, cidrs_match_pods: bool = False
    ) -> list[tuple[str, str, bool]]:
        """(source, target, allowed) for every pair of endpoints of the edge's roles."""
        return [
            (
                source.name,
                target.name,
                self.cluster.allows(
                    source, target, edge.port, edge.protocol, cidrs_match_pods=cidrs_match_pods
                ),
            )
            for source in self.endpoints(edge.source)
            for target in self.endpoints(edge.target)
            if source is not target
        ]


def pod_ips() -> Iterable[str]:
    return (f"10.244.{n // 250}.{n % 250 + 2}" for n in itertools.count())


def build_world(platform: Platform, chart: list[Manifest] | None = None) -> World:
    """Three tenants (two sharing a namespace, one in each workload), one LanguageModel, the
    platform (from the chart's manifests, or pods labelled as the chart labels them), and the
    neighbours every cluster has."""
    ips = iter(pod_ips())
    a = tenant("01-minimal-business", "tenants", "rayService", platform)  # no model
    b = tenant("04-business-with-model", "tenants", "deployment", platform)
    c = tenant("05-business-with-postgres-memory", "shops", "rayService", platform)
    llm = model(platform)
    writers = {
        key: render_writer_job(t, "1", "created")
        for key, t in (("tenant-a", a), ("tenant-b", b), ("tenant-c", c))
    }
    manifests = [
        *render_agent_children(a),
        *render_agent_children(b),
        *render_agent_children(c),
        *writers.values(),
        *render_language_model_children(llm),
    ]
    roles: dict[str, list[Endpoint]] = {}

    def add(role: str, *endpoints: Endpoint) -> None:
        roles.setdefault(role, []).extend(endpoints)

    for key, workload in (("tenant-a", a), ("tenant-b", b), ("tenant-c", c)):
        for manifest in render_agent_children(workload):
            for pod in pods_of(manifest, ips):
                add(key, pod)
                add("agents", pod)
                kind = pod.labels.get("ray.io/node-type")
                if kind == "head":
                    add("agent-heads", pod)
                    add(f"{key}-head", pod)
                if kind == "worker":
                    add(f"{key}-workers", pod)
                has_model = workload.spec.model is not None
                add("agents-with-model" if has_model else "agents-without-model", pod)
                has_postgres = workload.spec.memory.postgres is not None
                add("agents-with-postgres" if has_postgres else "agents-without-postgres", pod)
    for key, job in writers.items():  # one run of each tenant's index writer
        for pod in pods_of(job, ips):
            add(key, pod)
            add("indexing", pod)
    for manifest in render_language_model_children(llm):
        for pod in pods_of(manifest, ips):
            add("model", pod)
            node = pod.labels["ray.io/node-type"]
            add("model-head" if node == "head" else "model-workers", pod)
    platform_labels = {"app.kubernetes.io/name": "katha", "app.kubernetes.io/instance": "katha"}
    if chart is not None:
        manifests.extend(chart)
        for manifest in chart:
            component = manifest["metadata"].get("labels", {}).get("app.kubernetes.io/component")
            for pod in pods_of(manifest, ips):
                add(str(component), pod)
    else:
        for component in ("router", "operator"):
            labels = {**platform_labels, "app.kubernetes.io/component": component}
            add(component, Pod(component, platform.namespace, labels, next(ips)))
    console = {**platform_labels, "app.kubernetes.io/component": "console"}
    add("console", Pod("console", platform.namespace, console, next(ips)))
    add("kuberay", Pod("kuberay-operator", "default", KUBERAY_POD_LABELS, next(ips)))
    add("prometheus", Pod("prometheus", "monitoring", PROMETHEUS_POD_LABELS, next(ips)))
    grafana = {"app.kubernetes.io/name": "grafana"}
    add("prometheus-neighbour", Pod("grafana", "monitoring", grafana, next(ips)))
    add("kube-dns", Pod("coredns", "kube-system", {"k8s-app": "kube-dns"}, next(ips)))
    ingress = {"app.kubernetes.io/name": "ingress-nginx"}
    add("ingress-controller", Pod("ingress-nginx", "ingress-nginx", ingress, next(ips)))
    add("postgres", Pod("postgres", "databases", {"app": "postgres"}, next(ips)))
    add("intruder", Pod("intruder", "tenants", {"app": "curl"}, next(ips)))
    # A pod that copies an agent's labels from another namespace.
    add("elsewhere", Pod("copycat", "elsewhere", dict(a.labels()), next(ips)))
    for name, external in EXTERNALS.items():
        add(name, external)
    roles["web"].append(EXTERNALS["web-v6"])
    return World(Cluster.of(NAMESPACES, manifests), roles)


def design_rows(text: str) -> list[tuple[str, str]]:
    """(from, to) of each row of DESIGN.md's "Call edges" table."""
    section = text.split("## Call edges", 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("## "):
            break
        if not line.startswith("|") or set(line) <= {"|", "-", " "}:
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == "from":
            continue
        rows.append((cells[0], cells[1]))
    return rows
