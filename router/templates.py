"""Business-initiated messages: a template when the recipient's 24-hour window is closed.

Meta refuses a free-form message more than 24 hours after the recipient last wrote
(131047); only an approved template goes then. The Business names its templates
(`spec.whatsapp.templates`); this module decides whether one may be sent now and in which
of its translations:
- the recipient's language where the template has it; Singlish and Tanglish readers get
  the English one (the bridge), as does anyone whose language is not known or not there;
- never a Sinhala template to a Tamil reader or a Tamil one to a Sinhala reader: without
  a translation they read and no English one, nothing is sent;
- nothing while Meta restricts business-initiated messaging, nothing Meta paused, disabled
  or rejected, and no MARKETING template to a customer who stopped marketing messages.
"""

from dataclasses import dataclass
from typing import Literal

from katha.api.business import Template
from katha.contracts.routing import Route
from katha.lang.languages import Language
from router.account import AccountState

Purpose = Literal["handoff_notice", "handoff_ended", "reopen", "login_code"]
# Each purpose's body parameters, in order (katha.api.business.Templates says the same).
PARAMETERS: dict[Purpose, int] = {
    "handoff_notice": 3,
    "handoff_ended": 1,
    "reopen": 1,
    "login_code": 1,
}
_READS = {
    Language.SINHALA: "si",
    Language.TAMIL: "ta",
    Language.ENGLISH: "en",
    Language.SINGLISH: "en",
    Language.TANGLISH: "en",
}


@dataclass(frozen=True)
class Chosen:
    name: str
    language: str


def _base(code: str) -> str:
    return code.split("_", 1)[0]


def pick_language(template: Template, language: str | None) -> str | None:
    """The translation to send to someone who writes `language` (None: none fits)."""
    try:
        reads = _READS.get(Language(language or "unknown"))
    except ValueError:
        reads = None
    if reads is not None:
        for code in template.languages:
            if _base(code) == reads:
                return code
    english = [code for code in template.languages if _base(code) == "en"]
    if english:
        return english[0]
    if reads is None:  # language not known: the Business's first translation
        return template.languages[0]
    return None


def template_for(route: Route, purpose: Purpose) -> Template | None:
    templates = route.templates
    return {
        "handoff_notice": templates.handoff_notice,
        "handoff_ended": templates.handoff_ended,
        "reopen": templates.reopen,
        "login_code": templates.login_code,
    }[purpose]


Refusal = Literal["not_configured", "restricted", "no_language", "unusable", "opted_out"]


def choose(
    route: Route,
    purpose: Purpose,
    account: AccountState,
    language: str | None,
    *,
    marketing_stopped: bool = False,
) -> Chosen | Refusal:
    """The template and translation to send, or why none may be sent."""
    template = template_for(route, purpose)
    if template is None:
        return "not_configured"
    if not account.may_initiate():
        return "restricted"
    if template.category == "MARKETING" and marketing_stopped:
        return "opted_out"
    code = pick_language(template, language)
    if code is None:
        return "no_language"
    if not account.template_usable(template.name, code):
        return "unusable"
    return Chosen(template.name, code)
