"""Field types for the API, each refusing bad input with a message a platform engineer can act on.

Every type also carries the JSON-schema facts (pattern, bounds) that end up in the CRD,
so the API server and `katha validate` refuse the same mistakes.
"""

import re
import zoneinfo
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from katha.api.quantities import (
    DURATION_PATTERN,
    QUANTITY_PATTERN,
    format_duration,
    parse_duration,
    parse_quantity,
)

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# Meta's ID for a business number (not the number itself).
PHONE_NUMBER_ID_PATTERN = r"^[0-9]{8,20}$"
# The one home of a WhatsApp number's shape: country code and number, 8-15 digits (E.164).
# Meta's webhooks and the `katha` CLI write it as bare digits (wa_id); the Business spec
# writes it with a '+'. Free-text redaction is looser on purpose (katha.observability.redact).
_PHONE_DIGITS = r"[1-9][0-9]{7,14}"
WA_ID_PATTERN = rf"^{_PHONE_DIGITS}$"
E164_PATTERN = rf"^\+{_PHONE_DIGITS}$"
HTTP_URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"
HF_MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$"
# Letters, digits, '-', '_' and '.', but not "." or ".." (Kubernetes refuses those too: a key
# is a file name in the mounted volume). Written without look-arounds: the API server's
# patterns are RE2.
SECRET_KEY_PATTERN = r"^(\.{3,}|[-._a-zA-Z0-9]*[-_a-zA-Z0-9][-._a-zA-Z0-9]*)$"  # noqa: S105
# A relative path whose segments are never "..": `file:` sources stay inside their folder.
_SEGMENT = r"(?:[^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+|\.)"
RELATIVE_PATH_PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT})*/?$"


def _checked(
    kind: str, pattern: str, message: str, max_length: int | None = None
) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value) or (max_length is not None and len(value) > max_length):
            raise PydanticCustomError(kind, message, {"value": value})
        return value

    return check


def _schema(pattern: str, **extra: Any) -> Any:
    return Field(json_schema_extra={"pattern": pattern, **extra})


DnsLabel = Annotated[
    str,
    AfterValidator(
        _checked(
            "dns_label",
            DNS_LABEL_PATTERN,
            "'{value}' is not a valid Kubernetes name: use at most 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit",
            max_length=63,
        )
    ),
    _schema(DNS_LABEL_PATTERN, maxLength=63),
]

DnsSubdomain = Annotated[
    str,
    AfterValidator(
        _checked(
            "dns_subdomain",
            DNS_SUBDOMAIN_PATTERN,
            "'{value}' is not a valid Kubernetes object name: use lowercase letters, digits, "
            "'-' and '.', at most 253 characters",
            max_length=253,
        )
    ),
    _schema(DNS_SUBDOMAIN_PATTERN, maxLength=253),
]

PhoneNumberId = Annotated[
    str,
    AfterValidator(
        _checked(
            "phone_number_id",
            PHONE_NUMBER_ID_PATTERN,
            "'{value}' is not a WhatsApp phone number ID: copy the numeric ID (8-20 digits, "
            "e.g. 105954558954427) shown under API Setup in Meta's WhatsApp Manager, "
            "not the phone number itself",
        )
    ),
    _schema(PHONE_NUMBER_ID_PATTERN),
]

PhoneNumber = Annotated[
    str,
    AfterValidator(
        _checked(
            "e164",
            E164_PATTERN,
            "'{value}' is not a phone number in international form: write it as +94771234567 "
            "(a '+', the country code, then the number, no spaces)",
        )
    ),
    _schema(E164_PATTERN),
]


def as_wa_id(number: str) -> str | None:
    """A WhatsApp number as Meta's wa_id (digits only, "+94771234567" -> "94771234567"), or
    None when it is not one."""
    digits = number.strip().removeprefix("+")
    return digits if re.fullmatch(WA_ID_PATTERN, digits) else None


HttpUrl = Annotated[
    str,
    AfterValidator(
        _checked(
            "http_url",
            HTTP_URL_PATTERN,
            "'{value}' is not an http(s) URL: write it in full, e.g. https://example.lk/menu",
            max_length=2048,
        )
    ),
    _schema(HTTP_URL_PATTERN, maxLength=2048),
]

HuggingFaceModelId = Annotated[
    str,
    AfterValidator(
        _checked(
            "hf_model_id",
            HF_MODEL_ID_PATTERN,
            "'{value}' is not a Hugging Face model id: write it as organisation/model, "
            "e.g. Qwen/Qwen2.5-7B-Instruct",
            max_length=200,
        )
    ),
    _schema(HF_MODEL_ID_PATTERN, maxLength=200),
]

SecretKey = Annotated[
    str,
    AfterValidator(
        _checked(
            "secret_key",
            SECRET_KEY_PATTERN,
            "'{value}' is not a valid Secret or ConfigMap key: use letters, digits, '-', '_' "
            "and '.' (but not '.' or '..' alone)",
            max_length=253,
        )
    ),
    _schema(SECRET_KEY_PATTERN, maxLength=253),
]

RelativePath = Annotated[
    str,
    AfterValidator(
        _checked(
            "relative_path",
            RELATIVE_PATH_PATTERN,
            "'{value}' must be a relative path inside the knowledge folder, without '..'",
            max_length=1024,
        )
    ),
    _schema(RELATIVE_PATH_PATTERN, maxLength=1024),
]


def _quantity(value: str | int) -> str:
    text = str(value)
    try:
        amount = parse_quantity(text)
    except ValueError as error:
        raise PydanticCustomError("quantity", str(error)) from error
    if amount <= 0:
        raise PydanticCustomError(
            "quantity", "'{value}' must be larger than zero, e.g. 1Gi", {"value": text}
        )
    return text


# Positive sizes only: a zero or negative volume is always a mistake.
Quantity = Annotated[
    str, AfterValidator(_quantity), Field(json_schema_extra={"pattern": QUANTITY_PATTERN})
]


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from error
    return value


Duration = Annotated[
    str, AfterValidator(_duration), Field(json_schema_extra={"pattern": DURATION_PATTERN})
]


def check_duration_bounds(value: str, minimum: timedelta, maximum: timedelta) -> str:
    """Refuse a (well-formed) duration outside [minimum, maximum], naming the bound."""
    delta = parse_duration(value)
    if delta < minimum:
        raise PydanticCustomError(
            "duration_too_short",
            "'{value}' is too short: the shortest allowed is {minimum}",
            {"value": value, "minimum": format_duration(minimum)},
        )
    if delta > maximum:
        raise PydanticCustomError(
            "duration_too_long",
            "'{value}' is too long: the longest allowed is {maximum}",
            {"value": value, "maximum": format_duration(maximum)},
        )
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise PydanticCustomError(
            "timezone",
            "'{value}' is not an IANA time zone: write e.g. Asia/Colombo",
            {"value": value},
        ) from error
    return value


Timezone = Annotated[str, AfterValidator(_timezone), Field(max_length=64)]
