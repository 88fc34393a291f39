"""What Katha says in its own words when a message holds nothing it can read: the router to
a message type its route does not accept, the agent to media without a caption."""

from katha.lang.languages import Language

_TEXT_ONLY = {
    Language.SINHALA: "මට කියවිය හැක්කේ පෙළ පණිවිඩ පමණයි; කරුණාකර ඔබේ ප්‍රශ්නය ටයිප් කරන්න.",
    Language.SINGLISH: (
        "Mata kiyawanna puluwan text messages witharai; karunakara prashnaya type karanna."
    ),
    Language.TAMIL: ("என்னால் உரைச் செய்திகளை மட்டுமே படிக்க முடியும்; உங்கள் கேள்வியைத் தட்டச்சு செய்யவும்."),
    Language.TANGLISH: "Ennaal text messages mattum thaan padikka mudiyum; ungal kelviyai type pannunga.",  # noqa: E501
    Language.ENGLISH: "I can read text messages; please type your question.",
}


def in_language(table: dict[Language, str], language: str | None) -> str:
    """The entry for `language`, else the English one (also for a code nobody knows)."""
    try:
        return table.get(Language(language or "en"), table[Language.ENGLISH])
    except ValueError:
        return table[Language.ENGLISH]


def text_only(language: str | None) -> str:
    """Asks the customer to type: only text can be read."""
    return in_language(_TEXT_ONLY, language)
