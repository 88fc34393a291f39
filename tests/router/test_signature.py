"""X-Hub-Signature-256 is checked against every configured app secret, in constant time."""

from router.signature import sign, verify_signature

BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_the_app_secret_that_signed_the_body_is_named() -> None:
    secrets = [b"first-app-secret", b"second-app-secret"]
    assert verify_signature(BODY, sign(BODY, b"second-app-secret"), secrets) == b"second-app-secret"


def test_a_signature_from_an_unknown_app_is_refused() -> None:
    assert verify_signature(BODY, sign(BODY, b"someone-else"), [b"first-app-secret"]) is None


def test_a_changed_body_is_refused() -> None:
    header = sign(BODY, b"first-app-secret")
    assert verify_signature(BODY + b" ", header, [b"first-app-secret"]) is None


def test_missing_or_malformed_headers_are_refused() -> None:
    for header in (None, "", "sha1=abc", "sha256=not-hex", "sha256="):
        assert verify_signature(BODY, header, [b"first-app-secret"]) is None


def test_no_configured_secret_means_nothing_verifies() -> None:
    assert verify_signature(BODY, sign(BODY, b"first-app-secret"), []) is None
