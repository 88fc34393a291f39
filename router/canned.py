"""The few things the router itself says, in the customer's language."""

from katha.lang import Language

_TEXT_ONLY = {
    Language.SINHALA: "මට කියවිය හැක්කේ පෙළ පණිවිඩ පමණයි; කරුණාකර ඔබේ ප්‍රශ්නය ටයිප් කරන්න.",
    Language.SINGLISH: (
        "Mata kiyawanna puluwan text messages witharai; karunakara prashnaya type karanna."
    ),
    Language.TAMIL: ("என்னால் உரைச் செய்திகளை மட்டுமே படிக்க முடியும்; உங்கள் கேள்வியைத் தட்டச்சு செய்யவும்."),
    Language.TANGLISH: "Ennaal text messages mattum thaan padikka mudiyum; ungal kelviyai type pannunga.",  # noqa: E501
    Language.ENGLISH: "I can read text messages; please type your question.",
}
_SLOW_DOWN = {
    Language.SINHALA: "ඔබ ඉතා වේගයෙන් පණිවිඩ එවනවා; කරුණාකර මොහොතක් රැඳී සිට නැවත උත්සාහ කරන්න.",
    Language.SINGLISH: "Oba godak ikmanata messages ewanawa; karunakara tikak inna.",
    Language.TAMIL: ("நீங்கள் மிக வேகமாக செய்திகளை அனுப்புகிறீர்கள்; சிறிது நேரம் கழித்து முயற்சிக்கவும்."),
    Language.TANGLISH: "Neenga romba vegama messages anupureenga; konjam neram kazhichu try pannunga.",  # noqa: E501
    Language.ENGLISH: "You are sending messages very quickly; please wait a moment and try again.",
}


def _pick(table: dict[Language, str], language: str | None) -> str:
    try:
        return table.get(Language(language or "en"), table[Language.ENGLISH])
    except ValueError:
        return table[Language.ENGLISH]


def text_only(language: str | None) -> str:
    return _pick(_TEXT_ONLY, language)


def slow_down(language: str | None) -> str:
    return _pick(_SLOW_DOWN, language)


def handoff_notice(ref: str, customer: str, name: str | None, reason: str | None) -> str:
    """To the business owner (who may see the customer's number: it is their customer)."""
    who = f"{name} ({customer})" if name else customer
    why = f" Reason: {reason}." if reason else ""
    return (
        f"A customer needs a person: {who}.{why} The assistant stays quiet in this "
        f"conversation until you reply 'release {ref}' here."
    )
