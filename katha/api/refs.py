"""References from a Katha resource to Secrets and ConfigMaps in its own namespace."""

from katha.api.base import ApiModel
from katha.api.fields import DnsSubdomain, SecretKey


class SecretRef(ApiModel):
    """A Secret in the resource's namespace; which keys it must hold is said where it is used."""

    name: DnsSubdomain


class SecretKeyRef(ApiModel):
    """One key of a Secret in the resource's namespace."""

    name: DnsSubdomain
    key: SecretKey


class ConfigMapKeyRef(ApiModel):
    """One key of a ConfigMap in the resource's namespace (text in data, files in binaryData)."""

    name: DnsSubdomain
    key: SecretKey
