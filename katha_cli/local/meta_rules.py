"""What Meta refuses, played by `katha up`'s local Graph API: free-form messages outside the
recipient's 24-hour window, and templates the Business never declared or sends with the
wrong number of parameters. The one-machine run then shows the failures a real number would,
and the router's template fallbacks run for real.

Pure decisions only: the outbox keeps when each recipient last wrote, the app answers.
"""

import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse

from katha.api.business import Templates

WINDOW_ENV = "KATHA_LOCAL_WINDOW_SECONDS"
META_WINDOW_SECONDS = 24 * 3600.0

# Body parameters each purpose's template takes (the `Templates` docstring fixes them).
PARAMETERS_BY_PURPOSE = {"handoff_notice": 3, "handoff_ended": 1, "reopen": 1, "login_code": 1}

TEMPLATE_TEXT = re.compile(r"^\[template (\S+) (\S+)\](?: (.*))?$", re.S)
PARAMETER_SEPARATOR = " · "


@dataclass(frozen=True)
class GraphRules:
    """The local Graph API's view of Meta: the templates each local number's Business
    declared (by phone number ID), the reply window, and the clock (injected by tests)."""

    templates: Mapping[str, Templates] = field(default_factory=dict)
    window_seconds: float = META_WINDOW_SECONDS
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Refusal:
    """A Graph API error as Meta sends it synchronously."""

    status: int
    code: int
    title: str
    details: str

    def response(self) -> JSONResponse:
        error = {
            "message": f"(#{self.code}) {self.title}",
            "type": "OAuthException",
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        return JSONResponse({"error": error}, status_code=self.status)


OUTSIDE_WINDOW = Refusal(
    400,
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number.",
)


def window_seconds_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """KATHA_LOCAL_WINDOW_SECONDS, so a person can watch the window close by hand."""
    raw = environ.get(WINDOW_ENV, "").strip()
    if not raw:
        return META_WINDOW_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{WINDOW_ENV} must be a positive number of seconds, not {raw!r}")
    return seconds


def recipient_of(body: dict[str, Any]) -> str | None:
    """Whom a send is for: `to` (a phone number), else `recipient` (a BSUID); Meta gives
    `to` precedence when both are there."""
    for key in ("to", "recipient"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def is_read_receipt(body: dict[str, Any]) -> bool:
    """Marking a message read (and the typing indicator) is not a message to anyone."""
    return body.get("status") == "read" and "type" not in body


def sender_key(identifier: str) -> str:
    """One spelling per customer: Meta's wa_id has no '+', an owner number may."""
    return identifier.removeprefix("+")


def inbound_senders(webhook: Any) -> list[tuple[str, str]]:
    """(phone number ID, sender) for every customer message in a webhook body: the phone
    (`from`) and the BSUID (`from_user_id`), whichever are there, each opens the window."""
    found: list[tuple[str, str]] = []
    entries = webhook.get("entry") if isinstance(webhook, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            found.extend(_value_senders(value))
    return found


def _value_senders(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return []
    number = (value.get("metadata") or {}).get("phone_number_id")
    messages = value.get("messages")
    if not isinstance(number, str) or not isinstance(messages, list):
        return []
    senders: list[tuple[str, str]] = []
    for message in messages:
        for key in ("from", "from_user_id"):
            sender = message.get(key) if isinstance(message, dict) else None
            if isinstance(sender, str) and sender:
                senders.append((number, sender_key(sender)))
    return senders


def window_refusal(last_inbound: float | None, rules: GraphRules) -> Refusal | None:
    """131047 for a free-form message when the recipient never wrote, or wrote too long ago."""
    if last_inbound is None or rules.clock() - last_inbound >= rules.window_seconds:
        return OUTSIDE_WINDOW
    return None


def template_refusal(templates: Templates, body: dict[str, Any]) -> Refusal | None:
    """132001 for a template (or translation) the Business did not declare, 132000 when its
    body has another number of parameters than its purpose takes."""
    name, language = template_name(body)
    expected = {
        PARAMETERS_BY_PURPOSE[purpose]
        for purpose, template in templates
        if template is not None and template.name == name and language in template.languages
    }
    if not expected:
        return Refusal(
            404,
            132001,
            "Template name does not exist in the translation",
            f"template name ({name}) does not exist in {language}",
        )
    count = len(body_parameters(body))
    if count not in expected:
        return Refusal(
            400,
            132000,
            "Number of parameters does not match the expected number of params",
            f"body: number of localizable_params ({count}) does not match the expected "
            f"number of params ({min(expected)})",
        )
    authentication = any(
        template is not None and template.name == name and template.category == "AUTHENTICATION"
        for _, template in templates
    )
    if authentication and not _copy_code(body):
        # Meta's authentication templates carry a copy-code button whose parameter is the
        # code; a send without it is refused.
        return Refusal(
            400,
            132000,
            "Number of parameters does not match the expected number of params",
            "buttons: the copy-code button (index 0) needs the code as its parameter",
        )
    return None


def _copy_code(body: dict[str, Any]) -> bool:
    template = body.get("template")
    components = template.get("components") if isinstance(template, dict) else None
    for component in components if isinstance(components, list) else []:
        if (
            isinstance(component, dict)
            and component.get("type") == "button"
            and str(component.get("index")) == "0"
            and isinstance(component.get("parameters"), list)
            and len(component["parameters"]) == 1
        ):
            return True
    return False


def template_name(body: dict[str, Any]) -> tuple[str, str]:
    template = body.get("template")
    template = template if isinstance(template, dict) else {}
    language = template.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    return str(template.get("name") or ""), str(code or "")


def body_parameters(body: dict[str, Any]) -> list[dict[str, Any]]:
    template = body.get("template")
    components = template.get("components") if isinstance(template, dict) else None
    parameters: list[dict[str, Any]] = []
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and str(component.get("type", "")).lower() == "body":
            given = component.get("parameters")
            if isinstance(given, list):
                parameters += [parameter for parameter in given if isinstance(parameter, dict)]
    return parameters


def template_text(body: dict[str, Any]) -> str:
    """A template as `katha chat` shows it: "[template NAME LANGUAGE] p1 · p2 · p3"."""
    name, language = template_name(body)
    values = [_parameter_text(parameter) for parameter in body_parameters(body)]
    head = f"[template {name} {language}]"
    return f"{head} {PARAMETER_SEPARATOR.join(values)}" if values else head


def template_parameters(text: str | None) -> list[str] | None:
    """The parameters of a template as `template_text` wrote it; None for other text."""
    match = TEMPLATE_TEXT.match(text or "")
    if match is None:
        return None
    rest = match.group(3)
    return rest.split(PARAMETER_SEPARATOR) if rest else []


def _parameter_text(parameter: dict[str, Any]) -> str:
    kind = str(parameter.get("type", "text"))
    value = parameter.get(kind)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("fallback_value"), str):
        return str(value["fallback_value"])  # currency, date_time
    return f"<{kind}>"
