"""Which addresses a knowledge URL may reach: the decision alone, without sockets."""

import pytest

from ingestion.addresses import AddressKind, AddressPolicy, classify, parse_address, refusal

CLUSTER = AddressPolicy()
OPEN = AddressPolicy.of(allow_loopback=True, allow_private=True)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", AddressKind.METADATA),
        ("169.254.170.2", AddressKind.METADATA),
        ("100.100.100.200", AddressKind.METADATA),
        ("192.0.0.192", AddressKind.METADATA),
        ("fd00:ec2::254", AddressKind.METADATA),
        ("::ffff:169.254.169.254", AddressKind.METADATA),
        ("64:ff9b::a9fe:a9fe", AddressKind.METADATA),  # NAT64
        ("2002:a9fe:a9fe::1", AddressKind.METADATA),  # 6to4
        ("::169.254.169.254", AddressKind.METADATA),  # IPv4-compatible
        ("169.254.1.1", AddressKind.LINK_LOCAL),
        ("fe80::1%eth0", AddressKind.LINK_LOCAL),
        ("0.0.0.0", AddressKind.UNSPECIFIED),  # noqa: S104 (an address, not a bind)
        ("0.1.2.3", AddressKind.UNSPECIFIED),
        ("::", AddressKind.UNSPECIFIED),
        ("224.0.0.251", AddressKind.MULTICAST),
        ("ff02::1", AddressKind.MULTICAST),
        ("::ffff:239.1.1.1", AddressKind.MULTICAST),
        ("255.255.255.255", AddressKind.RESERVED),
        ("240.0.0.1", AddressKind.RESERVED),
        ("2001:db8::1", AddressKind.RESERVED),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", AddressKind.RESERVED),  # Teredo
        ("127.0.0.1", AddressKind.LOOPBACK),
        ("127.255.0.9", AddressKind.LOOPBACK),
        ("::1", AddressKind.LOOPBACK),
        ("::ffff:127.0.0.1", AddressKind.LOOPBACK),
        ("10.96.0.1", AddressKind.PRIVATE),
        ("172.31.255.1", AddressKind.PRIVATE),
        ("192.168.1.1", AddressKind.PRIVATE),
        ("100.64.0.1", AddressKind.PRIVATE),
        ("fd12:3456::1", AddressKind.PRIVATE),
        ("::ffff:10.0.0.1", AddressKind.PRIVATE),
        ("8.8.8.8", AddressKind.PUBLIC),
        ("172.32.0.1", AddressKind.PUBLIC),
        ("::ffff:1.1.1.1", AddressKind.PUBLIC),
        ("2606:4700:4700::1111", AddressKind.PUBLIC),
    ],
)
def test_every_address_has_a_kind_and_ipv6_forms_of_ipv4_share_it(
    address: str, kind: AddressKind
) -> None:
    assert classify(parse_address(address)) is kind


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "fe80::1", "0.0.0.9", "ff02::1"],
)
def test_no_setting_opens_metadata_link_local_or_reserved(address: str) -> None:
    everything = AddressPolicy.of(
        allow_loopback=True, allow_private=True, allowed=["0.0.0.0/0", "::/0"]
    )
    assert refusal(parse_address(address), everything) is not None


def test_loopback_and_private_ranges_open_only_when_allowed() -> None:
    loopback, private = parse_address("127.0.0.1"), parse_address("10.0.0.1")
    assert refusal(loopback, CLUSTER) is AddressKind.LOOPBACK
    assert refusal(private, CLUSTER) is AddressKind.PRIVATE
    assert refusal(loopback, AddressPolicy(allow_loopback=True)) is None
    assert refusal(private, AddressPolicy(allow_loopback=True)) is AddressKind.PRIVATE
    assert refusal(private, AddressPolicy(allow_private=True)) is None
    assert refusal(parse_address("8.8.8.8"), CLUSTER) is None


def test_an_allowed_range_opens_itself_and_nothing_next_to_it() -> None:
    intranet = AddressPolicy.of(allowed=["10.20.0.0/16"])
    assert refusal(parse_address("10.20.3.4"), intranet) is None
    assert refusal(parse_address("::ffff:10.20.3.4"), intranet) is None
    assert refusal(parse_address("10.21.0.1"), intranet) is AddressKind.PRIVATE


def test_blocked_ranges_win_over_every_allowance_and_over_public() -> None:
    # GKE's service range can lie in public-looking space; the platform team blocks it.
    policy = AddressPolicy.of(
        allow_private=True, blocked=["34.118.224.0/20", "10.96.0.0/12"], allowed=["10.96.0.0/16"]
    )
    assert refusal(parse_address("34.118.230.1"), policy) is AddressKind.BLOCKED
    assert refusal(parse_address("::ffff:34.118.230.1"), policy) is AddressKind.BLOCKED
    assert refusal(parse_address("10.96.0.10"), policy) is AddressKind.BLOCKED
    assert refusal(parse_address("10.0.0.1"), policy) is None
