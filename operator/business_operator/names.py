"""Deterministic, valid names and the standard labels for everything a Business owns."""

import hashlib

from katha.api import API_GROUP, GROUP_VERSION

MAX_NAME = 63
BUSINESS_LABEL = f"{API_GROUP}/business"
LANGUAGE_MODEL_LABEL = f"{API_GROUP}/language-model"
SERVES_LABEL = f"{API_GROUP}/serves"
# A Secret shared by several Businesses lists them here ("name-a,name-b"); a Secret of one
# Business carries BUSINESS_LABEL instead. Nothing else may be referenced (see grants.py).
BUSINESSES_ANNOTATION = f"{API_GROUP}/businesses"
# The container of a writer Job that writes a tenant's index; its termination message is the result.
INDEX_WRITER = "index-writer"
MANAGED_BY = "katha-operator"


def child_name(owner: str, suffix: str) -> str:
    """`<owner>-<suffix>`, shortened with a stable hash when it would pass 63 characters.

    Two long owner names that share a prefix still get different child names, and the
    same owner always gets the same one, so reconciling twice never duplicates a child.
    """
    name = f"{owner}-{suffix}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(owner.encode()).hexdigest()[:8]
    keep = MAX_NAME - len(suffix) - len(digest) - 2
    return f"{owner[:keep].rstrip('-')}-{digest}-{suffix}"


def labels(owner: str, component: str, *, kind: str = "Business") -> dict[str, str]:
    """The app.kubernetes.io/* labels plus the owner's own label, for selectors and kubectl."""
    owner_label = BUSINESS_LABEL if kind == "Business" else LANGUAGE_MODEL_LABEL
    return {
        "app.kubernetes.io/name": f"katha-{component}",
        "app.kubernetes.io/instance": owner,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "katha",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        owner_label: owner,
    }


def owner_reference(kind: str, name: str, uid: str) -> dict[str, object]:
    """Makes the child garbage-collected with its owner (and shown as owned in kubectl)."""
    return {
        "apiVersion": GROUP_VERSION,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
