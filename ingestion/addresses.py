"""Which network addresses a knowledge URL may reach. Pure decisions: no sockets here.

A Business names its own URLs, so without this a tenant could point ingestion at the
cloud's metadata service or at services inside the cluster and read the answers back
through its agent. Cloud metadata, link-local, multicast and reserved addresses are never
reached; loopback and private ranges only when a setting says so (`katha up` serves its
own local sites on 127.0.0.1).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


class AddressKind(StrEnum):
    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    METADATA = "cloud metadata"
    LINK_LOCAL = "link-local"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    RESERVED = "reserved"
    BLOCKED = "blocked"  # a range the settings block (the cluster's service and pod ranges)


# Kinds that no setting opens: nothing a knowledge source needs lives there.
ALWAYS_REFUSED = frozenset(
    {
        AddressKind.METADATA,
        AddressKind.LINK_LOCAL,
        AddressKind.UNSPECIFIED,
        AddressKind.MULTICAST,
        AddressKind.RESERVED,
        AddressKind.BLOCKED,
    }
)


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ip_network(cidr) for cidr in cidrs)


# Checked in this order, so that the metadata addresses inside wider ranges (Alibaba's
# inside CGNAT, AWS's IPv6 one inside the unique-local range) are named and never opened.
_TABLE: tuple[tuple[AddressKind, tuple[IPNetwork, ...]], ...] = (
    (
        AddressKind.METADATA,
        _networks(
            "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack, DigitalOcean
            "169.254.170.2/32",  # AWS ECS task credentials
            "100.100.100.200/32",  # Alibaba Cloud
            "192.0.0.192/32",  # Oracle Cloud
            "fd00:ec2::254/128",  # AWS over IPv6
        ),
    ),
    (AddressKind.LINK_LOCAL, _networks("169.254.0.0/16", "fe80::/10")),
    (AddressKind.UNSPECIFIED, _networks("0.0.0.0/8", "::/128")),
    (AddressKind.MULTICAST, _networks("224.0.0.0/4", "ff00::/8")),
    (AddressKind.LOOPBACK, _networks("127.0.0.0/8", "::1/128")),
    (
        AddressKind.RESERVED,
        _networks(
            "240.0.0.0/4",  # future use and broadcast
            "192.0.0.0/24",  # IETF protocol assignments
            "192.0.2.0/24",  # documentation
            "198.51.100.0/24",
            "203.0.113.0/24",
            "198.18.0.0/15",  # benchmarking
            "192.88.99.0/24",  # 6to4 relays
            "100::/64",  # discard-only
            "2001::/32",  # Teredo: the IPv4 inside is obfuscated, so it cannot be vetted
            "2001:db8::/32",  # documentation
        ),
    ),
    (
        AddressKind.PRIVATE,
        _networks(
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",  # carrier-grade NAT, often a cluster's pod range
            "fc00::/7",  # unique local
            "fec0::/10",  # site-local (deprecated, still routed by some)
            "64:ff9b:1::/48",  # local-use NAT64
        ),
    ),
)

_NAT64 = ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ip_network("::/96")


@dataclass(frozen=True)
class AddressPolicy:
    """What ingestion may connect to beyond the public internet."""

    allow_loopback: bool = False
    allow_private: bool = False
    blocked: tuple[IPNetwork, ...] = ()  # refused whatever else says (cluster ranges)
    allowed: tuple[IPNetwork, ...] = ()  # loopback or private ranges opened one by one

    @classmethod
    def of(
        cls,
        *,
        allow_loopback: bool = False,
        allow_private: bool = False,
        blocked: Iterable[str | IPNetwork] = (),
        allowed: Iterable[str | IPNetwork] = (),
    ) -> "AddressPolicy":
        return cls(
            allow_loopback,
            allow_private,
            tuple(ip_network(cidr) for cidr in blocked),
            tuple(ip_network(cidr) for cidr in allowed),
        )


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries and reaches (mapped, NAT64, 6to4, compatible)."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def classify(address: IPAddress) -> AddressKind:
    """The kind of `address`; an IPv6 form of an IPv4 address has that address's kind."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return classify(inner)
    for kind, networks in _TABLE:
        if any(address in network for network in networks):
            return kind
    return AddressKind.PUBLIC


def refusal(address: IPAddress, policy: AddressPolicy) -> AddressKind | None:
    """Why ingestion must not connect to `address` under `policy`; None when it may."""
    kind = classify(address)
    if kind in ALWAYS_REFUSED:
        return kind
    forms = (address, embedded_ipv4(address) or address)
    if any(form in network for form in forms for network in policy.blocked):
        return AddressKind.BLOCKED
    if kind is AddressKind.PUBLIC:
        return None
    if any(form in network for form in forms for network in policy.allowed):
        return None
    if kind is AddressKind.LOOPBACK and policy.allow_loopback:
        return None
    if kind is AddressKind.PRIVATE and policy.allow_private:
        return None
    return kind


def parse_address(text: str) -> IPAddress:
    """An address as getaddrinfo gives it; an IPv6 scope ("fe80::1%eth0") is dropped."""
    return ip_address(text.split("%", 1)[0])
