"""What the agent says in its own words, in Sinhala, Singlish, Tamil and English.

Greetings, thanks, handoffs and honest "I don't know"s come from here; facts never do.
"""

from agent_runtime.languages import readable_by
from katha.api.business import Persona, Tone

REPLY_LANGUAGES = ("en", "si", "singlish", "ta")

_PHRASES: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hello! I'm {name} from {business}. How can I help you today?",
        "si": "ආයුබෝවන්! මම {business} හි {name}. ඔබට කෙසේ උදව් කළ හැකිද?",
        "singlish": "Ayubowan! Mama {business} eke {name}. Mokakda dannaganna ona?",
        "ta": "வணக்கம்! நான் {business} இன் {name}. உங்களுக்கு எப்படி உதவலாம்?",
    },
    "thanks": {
        "en": "You're welcome! Is there anything else I can help with?",
        "si": "ඔබට ස්තූතියි! තවත් යමක් දැනගැනීමට අවශ්‍යද?",
        "singlish": "Sthuthiyi! Thawa mokak hari dannaganna onada?",
        "ta": "நன்றி! வேறு ஏதாவது உதவி வேண்டுமா?",
    },
    "handoff": {
        "en": "I'm not sure about that, so I'll ask a person from {business} to reply to you.",
        "si": "මට ඒ ගැන විශ්වාස නැහැ. {business} හි කෙනෙක් ඔබට පිළිතුරු දෙනු ඇත.",
        "singlish": "Mata eka gana sure naha. {business} eke kenek oyata reply karai.",
        "ta": "இது பற்றி எனக்கு உறுதியாகத் தெரியவில்லை. {business} இலிருந்து ஒருவர் பதிலளிப்பார்.",
    },
    "human": {
        "en": "Of course. I'll ask a person from {business} to reply to you shortly.",
        "si": "හරි. {business} හි කෙනෙක් ඉක්මනින් ඔබට පිළිතුරු දෙනු ඇත.",
        "singlish": "Hari. {business} eke kenek ikmanata oyata reply karai.",
        "ta": "சரி. {business} இலிருந்து ஒருவர் விரைவில் உங்களுக்கு பதிலளிப்பார்.",
    },
    "complaint": {
        "en": "I'm sorry to hear that. I'll ask a person from {business} to look into it now.",
        "si": "ඒ ගැන අපි කනගාටු වෙනවා. {business} හි කෙනෙක් දැන්ම ඒ ගැන සොයා බලනු ඇත.",
        "singlish": "Eka gana samawenna. {business} eke kenek dan ma eka balai.",
        "ta": "மன்னிக்கவும். {business} இலிருந்து ஒருவர் இதை உடனே கவனிப்பார்.",
    },
    "unsure": {
        "en": "I'm not sure about that. Please contact {business} directly.",
        "si": "මට ඒ ගැන විශ්වාස නැහැ. කරුණාකර {business} අමතන්න.",
        "singlish": "Mata eka gana sure naha. Karunakara {business} ekata call karanna.",
        "ta": "இது பற்றி எனக்குத் தெரியவில்லை. தயவுசெய்து {business} ஐ தொடர்பு கொள்ளுங்கள்.",
    },
    "out_of_scope": {
        "en": "Sorry, I can only help with questions about {business}.",
        "si": "සමාවන්න, මට උදව් කළ හැක්කේ {business} ගැන ප්‍රශ්නවලට පමණයි.",
        "singlish": "Samawenna, mata puluwan {business} gana prashna walata witharai.",
        "ta": "மன்னிக்கவும், {business} பற்றிய கேள்விகளுக்கு மட்டுமே உதவ முடியும்.",
    },
    "in_english": {
        "en": "",
        "si": "(මෙම විස්තර ඇත්තේ ඉංග්‍රීසියෙන් පමණි.)",
        "singlish": "(Me wisthara thiyenne English walin witharai.)",
        "ta": "(இந்த விவரங்கள் ஆங்கிலத்தில் மட்டுமே உள்ளன.)",
    },
    "in_sinhala": {
        "en": "(These details are available in Sinhala only.)",
        "si": "",
        "singlish": "",
        "ta": "(இந்த விவரங்கள் சிங்களத்தில் மட்டுமே உள்ளன.)",
    },
    "now": {
        "en": "(It is {time} here now.)",
        "si": "(දැන් මෙහි වේලාව {time}.)",
        "singlish": "(Dan mehe welawa {time}.)",
        "ta": "(இப்போது இங்கு நேரம் {time}.)",
    },
    "web": {
        "en": "I found this on the web:",
        "si": "මට අන්තර්ජාලයේ මෙය හමු විය:",
        "singlish": "Mata web eke meka hambuna:",
        "ta": "இணையத்தில் இது கிடைத்தது:",
    },
}


def phrase(key: str, language: str, persona: Persona, business: str) -> str:
    """A phrase in `language` (English where that language has none), in the persona's tone."""
    table = _PHRASES[key]
    text = table.get(language, table["en"]).format(name=persona.name, business=business, time="")
    if key in {"greeting", "thanks"} and persona.tone in {Tone.WARM, Tone.FRIENDLY}:
        text += " 😊"
    return text


def greeting(language: str, persona: Persona, business: str) -> str:
    """The persona's own greeting when it has one that the customer can read, else the
    greeting in `language` (an owner's Sinhala greeting never goes to a Tamil reader)."""
    if persona.greeting and readable_by(persona.greeting, language):
        return persona.greeting
    return phrase("greeting", language, persona, business)


def now_note(language: str, local_time: str) -> str:
    return _PHRASES["now"].get(language, _PHRASES["now"]["en"]).format(time=local_time)


def note_for(knowledge_language: str, reply_language: str) -> str:
    """An honest note that the details are only in another language ("" when none is needed)."""
    key = "in_english" if knowledge_language == "en" else "in_sinhala"
    return _PHRASES[key].get(reply_language, "")
