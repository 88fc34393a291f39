"""Kubernetes RBAC as the API server decides it, for tests: who a request comes from, what it
asks (the API server's RequestInfo), and whether the Roles and bindings allow it.

Pure and independent of any HTTP server: `Policy.from_manifests` takes the rendered
RBAC objects, `request_attributes` turns a method, path and query into what is
authorised, `Policy.authorize` decides. The semantics follow
k8s.io/apiserver (requestinfo.go) and plugin/pkg/auth/authorizer/rbac (rbac.go).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ADMINS = "system:masters"  # the group the API server lets do anything, before RBAC
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"

# The namespace subresources: /api/v1/namespaces/{ns}/status is the Namespace's status,
# not a resource called "status" in that namespace.
NAMESPACE_SUBRESOURCES = {"status", "finalize"}
# The prefixes under which a path addresses resources (everything else is non-resource).
API_PREFIXES = {"api", "apis"}


@dataclass(frozen=True)
class User:
    name: str
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMINS in self.groups


def service_account(namespace: str, name: str) -> User:
    """The user a ServiceAccount's token authenticates as."""
    return User(
        name=f"system:serviceaccount:{namespace}:{name}",
        groups=frozenset(
            {"system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED}
        ),
    )


def admin(name: str = "test-admin") -> User:
    return User(name=name, groups=frozenset({ADMINS, AUTHENTICATED}))


ANONYMOUS_USER = User(name=ANONYMOUS, groups=frozenset({UNAUTHENTICATED}))


@dataclass(frozen=True)
class Attributes:
    """What the authoriser sees of one request (authorizer.Attributes)."""

    verb: str
    path: str
    resource_request: bool
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    def describe(self) -> str:
        """The API server's wording of a refusal, after the subject."""
        if not self.resource_request:
            return f'cannot {self.verb} path "{self.path}"'
        what = self.resource + (f"/{self.subresource}" if self.subresource else "")
        where = (
            f' in the namespace "{self.namespace}"' if self.namespace else " at the cluster scope"
        )
        return f'cannot {self.verb} resource "{what}" in API group "{self.api_group}"{where}'


def request_attributes(method: str, path: str, query: Mapping[str, str]) -> Attributes:
    """The RequestInfo the API server derives from an HTTP request."""
    parts = [part for part in path.strip("/").split("/") if part]
    method = method.upper()
    if len(parts) < 2 or parts[0] not in API_PREFIXES or (parts[0] == "apis" and len(parts) < 3):
        # /api, /apis, /apis/{group}, /version, /openapi/v2, /healthz: no resource named.
        return Attributes(verb=_non_resource_verb(method), path=path, resource_request=False)
    if parts[0] == "api":
        api_group, rest = "", parts[2:]
    else:
        api_group, rest = parts[1], parts[3:]
    if not rest:  # /api/v1 or /apis/{group}/{version}: discovery of a group version
        return Attributes(verb=_non_resource_verb(method), path=path, resource_request=False)
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    verb = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch"}.get(
        method, "delete" if method == "DELETE" else method.lower()
    )
    if not name and verb == "get":
        verb = "watch" if query.get("watch") in {"true", "1"} else "list"
        # A list or watch narrowed to one name is authorised as that name, so a rule with
        # resourceNames can allow it (the router watches one Secret this way).
        selected = _exact_name(query.get("fieldSelector", ""))
        if selected:
            name = selected
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(
        verb=verb,
        path=path,
        resource_request=True,
        api_group=api_group,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )


def _non_resource_verb(method: str) -> str:
    return {"GET": "get", "HEAD": "head", "POST": "post", "PUT": "put"}.get(method, method.lower())


def _exact_name(selector: str) -> str:
    """The name a field selector requires exactly (`metadata.name=x` or `==x`), if any."""
    for term in selector.split(","):
        key, operator, value = term.strip().partition("=")
        if key == "metadata.name" and operator:
            value = value.removeprefix("=")
            if value and not value.startswith("="):
                return value
    return ""


@dataclass(frozen=True)
class Rule:
    """One PolicyRule: every list must match (an empty resourceNames matches any name)."""

    verbs: frozenset[str]
    api_groups: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    resource_names: frozenset[str] = frozenset()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def parse(cls, rule: Mapping[str, Any]) -> "Rule":
        return cls(
            verbs=frozenset(rule.get("verbs") or ()),
            api_groups=frozenset(rule.get("apiGroups") or ()),
            resources=frozenset(rule.get("resources") or ()),
            resource_names=frozenset(rule.get("resourceNames") or ()),
            non_resource_urls=tuple(rule.get("nonResourceURLs") or ()),
        )

    def allows(self, request: Attributes) -> bool:
        if request.verb not in self.verbs and "*" not in self.verbs:
            return False
        if not request.resource_request:
            return any(_url_matches(url, request.path) for url in self.non_resource_urls)
        if request.api_group not in self.api_groups and "*" not in self.api_groups:
            return False
        if not self._resource_matches(request):
            return False
        # A create carries no name when authorised (the name is in the body), so a rule
        # limited to names never allows one; likewise a list or watch of everything.
        return not self.resource_names or request.name in self.resource_names

    def _resource_matches(self, request: Attributes) -> bool:
        if "*" in self.resources:
            return True
        if not request.subresource:
            return request.resource in self.resources
        combined = f"{request.resource}/{request.subresource}"
        return combined in self.resources or f"*/{request.subresource}" in self.resources


def _url_matches(rule_url: str, path: str) -> bool:
    if rule_url == "*" or rule_url == path:
        return True
    return rule_url.endswith("*") and path.startswith(rule_url[:-1])


@dataclass(frozen=True)
class Subject:
    kind: str
    name: str
    namespace: str = ""

    def applies_to(self, user: User, binding_namespace: str) -> bool:
        if self.kind == "User":
            return user.name == self.name
        if self.kind == "Group":
            return self.name in user.groups
        if self.kind == "ServiceAccount":
            # A RoleBinding may leave out the namespace of its own ServiceAccounts.
            namespace = self.namespace or binding_namespace
            return bool(namespace) and user.name == f"system:serviceaccount:{namespace}:{self.name}"
        return False


@dataclass(frozen=True)
class Binding:
    namespace: str  # "" for a ClusterRoleBinding
    role_kind: str  # Role or ClusterRole
    role_name: str
    subjects: tuple[Subject, ...]

    def applies_to(self, user: User) -> bool:
        return any(subject.applies_to(user, self.namespace) for subject in self.subjects)


class RbacError(Exception):
    """The RBAC objects cannot be evaluated as given (e.g. an aggregated ClusterRole)."""


# What every authenticated user may read about the API itself (the bootstrap ClusterRoles
# system:discovery and system:public-info-viewer, bound to system:authenticated).
DISCOVERY_URLS = (
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/readyz",
    "/openapi",
    "/openapi/*",
    "/version",
    "/version/",
)
DISCOVERY = Rule(verbs=frozenset({"get"}), non_resource_urls=DISCOVERY_URLS)
PUBLIC_INFO = Rule(
    verbs=frozenset({"get"}), non_resource_urls=("/healthz", "/livez", "/readyz", "/version")
)


@dataclass
class Policy:
    """Roles, ClusterRoles and their bindings, evaluated as the API server's RBAC authoriser."""

    roles: dict[tuple[str, str], tuple[Rule, ...]] = field(default_factory=dict)
    cluster_roles: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    bindings: list[Binding] = field(default_factory=list)
    _cache: dict[tuple[User, str], tuple[Rule, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_manifests(cls, manifests: Iterable[Mapping[str, Any]]) -> "Policy":
        policy = cls()
        policy.cluster_roles["system:discovery"] = (DISCOVERY,)
        policy.cluster_roles["system:public-info-viewer"] = (PUBLIC_INFO,)
        everyone = (Subject("Group", AUTHENTICATED), Subject("Group", UNAUTHENTICATED))
        policy.bindings += [
            Binding("", "ClusterRole", "system:discovery", everyone[:1]),
            Binding("", "ClusterRole", "system:public-info-viewer", everyone),
        ]
        for manifest in manifests:
            kind, meta = manifest.get("kind"), manifest.get("metadata") or {}
            if kind in {"Role", "ClusterRole"} and manifest.get("aggregationRule"):
                raise RbacError(f"{kind} {meta.get('name')}: aggregated roles are not evaluated")
            rules = tuple(Rule.parse(rule) for rule in manifest.get("rules") or ())
            if kind == "Role":
                policy.roles[meta["namespace"], meta["name"]] = rules
            elif kind == "ClusterRole":
                policy.cluster_roles[meta["name"]] = rules
            elif kind in {"RoleBinding", "ClusterRoleBinding"}:
                namespace = meta["namespace"] if kind == "RoleBinding" else ""
                ref = manifest["roleRef"]
                if kind == "ClusterRoleBinding" and ref["kind"] != "ClusterRole":
                    raise RbacError(f"ClusterRoleBinding {meta['name']} refers to a Role")
                subjects = tuple(
                    Subject(s["kind"], s["name"], s.get("namespace", ""))
                    for s in manifest.get("subjects") or ()
                )
                policy.bindings.append(Binding(namespace, ref["kind"], ref["name"], subjects))
        return policy

    def rules_for(self, user: User, namespace: str) -> tuple[Rule, ...]:
        """Every rule that applies to `user` for a request in `namespace` ("" = cluster)."""
        key = (user, namespace)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        rules: list[Rule] = []
        for binding in self.bindings:
            if binding.namespace not in ("", namespace) or not binding.applies_to(user):
                continue
            if binding.role_kind == "ClusterRole":
                rules.extend(self.cluster_roles.get(binding.role_name, ()))
            else:
                rules.extend(self.roles.get((binding.namespace, binding.role_name), ()))
        found = self._cache[key] = tuple(rules)
        return found

    def authorize(self, user: User, request: Attributes) -> bool:
        if user.is_admin:
            return True
        return any(rule.allows(request) for rule in self.rules_for(user, request.namespace))


def bearer_token(headers: Mapping[str, str]) -> str | None:
    for key, value in headers.items():
        if key.lower() == "authorization":
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


@dataclass
class Gate:
    """Authentication by bearer token, then authorisation by the policy: what the API server
    does before it serves a request. `check` answers None (go on) or the Status to send."""

    policy: Policy
    tokens: Mapping[str, User]

    def check(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> dict[str, Any] | None:
        token = bearer_token(headers)
        if token is None:
            user = ANONYMOUS_USER
        elif token in self.tokens:
            user = self.tokens[token]
        else:
            return status(401, "Unauthorized", "Unauthorized")
        request = request_attributes(method, path, query)
        if self.policy.authorize(user, request):
            return None
        return forbidden(user, request)


def status(code: int, reason: str, message: str, **details: str) -> dict[str, Any]:
    """A metav1.Status body, as Kubernetes clients (Kopf, kubectl) parse errors."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def forbidden(user: User, request: Attributes) -> dict[str, Any]:
    subject = f'User "{user.name}" {request.describe()}'
    if not request.resource_request:
        return status(403, "Forbidden", f"forbidden: {subject}")
    qualified = request.resource + (f".{request.api_group}" if request.api_group else "")
    target = f'{qualified} "{request.name}"' if request.name else qualified
    details = {"kind": request.resource} | ({"name": request.name} if request.name else {})
    if request.api_group:
        details["group"] = request.api_group
    return status(403, "Forbidden", f"{target} is forbidden: {subject}", **details)
