"""The few things the router itself says, in the customer's language (the request to type
instead of sending media is shared with the agent: `katha.replies`)."""

from katha.lang.languages import Language
from katha.replies import in_language

_SLOW_DOWN = {
    Language.SINHALA: "ඔබ ඉතා වේගයෙන් පණිවිඩ එවනවා; කරුණාකර මොහොතක් රැඳී සිට නැවත උත්සාහ කරන්න.",
    Language.SINGLISH: "Oba godak ikmanata messages ewanawa; karunakara tikak inna.",
    Language.TAMIL: ("நீங்கள் மிக வேகமாக செய்திகளை அனுப்புகிறீர்கள்; சிறிது நேரம் கழித்து முயற்சிக்கவும்."),
    Language.TANGLISH: "Neenga romba vegama messages anupureenga; konjam neram kazhichu try pannunga.",  # noqa: E501
    Language.ENGLISH: "You are sending messages very quickly; please wait a moment and try again.",
}


def slow_down(language: str | None) -> str:
    return in_language(_SLOW_DOWN, language)


def handoff_notice(ref: str, customer: str, name: str | None, reason: str | None) -> str:
    """To the business owner (who may see the customer's number: it is their customer)."""
    who = f"{name} ({customer})" if name else customer
    why = f" Reason: {reason}." if reason else ""
    return (
        f"A customer needs a person: {who}.{why} The assistant stays quiet in this "
        f"conversation until you reply 'release {ref}' here."
    )
