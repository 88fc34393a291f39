"""What the agent says in its own words, in Sinhala, Singlish, Tamil and English.

Greetings, thanks, handoffs and honest "I don't know"s come from here; facts never do.
"""

from agent_runtime.languages import readable_by
from katha.api.business import Persona, Tone

REPLY_LANGUAGES = ("en", "si", "singlish", "ta")
HEARD_MAX_CHARS = 300

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
    # Customers' media the agent cannot read itself: a person will (handoff reasons).
    "voice_note": {
        "en": "Thank you for your voice note. A person from {business} will listen to it and "
        "reply to you soon.",
        "si": "ඔබේ හඬ පණිවිඩයට ස්තූතියි. {business} හි කෙනෙක් එයට සවන් දී ඉක්මනින් ඔබට පිළිතුරු දෙනු ඇත.",
        "singlish": "Oyage voice note ekata sthuthiyi. {business} eke kenek eka ahala "
        "ikmanata oyata reply karai.",
        "ta": "உங்கள் குரல் செய்திக்கு நன்றி. {business} இலிருந்து ஒருவர் அதைக் கேட்டு விரைவில் பதிலளிப்பார்.",
    },
    "photo": {
        "en": "Thank you for the photo. A person from {business} will look at it and reply "
        "to you soon.",
        "si": "ඡායාරූපයට ස්තූතියි. {business} හි කෙනෙක් එය බලා ඉක්මනින් ඔබට පිළිතුරු දෙනු ඇත.",
        "singlish": "Photo ekata sthuthiyi. {business} eke kenek eka balala ikmanata oyata "
        "reply karai.",
        "ta": "புகைப்படத்திற்கு நன்றி. {business} இலிருந்து ஒருவர் அதைப் பார்த்து விரைவில் பதிலளிப்பார்.",
    },
    "document": {
        "en": "Thank you for the document. A person from {business} will read it and reply "
        "to you soon.",
        "si": "ලේඛනයට ස්තූතියි. {business} හි කෙනෙක් එය කියවා ඉක්මනින් ඔබට පිළිතුරු දෙනු ඇත.",
        "singlish": "Document ekata sthuthiyi. {business} eke kenek eka kiyawala ikmanata "
        "oyata reply karai.",
        "ta": "ஆவணத்திற்கு நன்றி. {business} இலிருந்து ஒருவர் அதைப் படித்து விரைவில் பதிலளிப்பார்.",
    },
    "daily_limit": {
        "en": "Thank you. We cannot open more voice notes and photos automatically today, so "
        "a person from {business} will reply to yours soon.",
        "si": "ස්තූතියි. අද තවත් හඬ පණිවිඩ සහ ඡායාරූප ස්වයංක්‍රීයව විවෘත කළ නොහැක. {business} හි "
        "කෙනෙක් ඔබට ඉක්මනින් පිළිතුරු දෙනු ඇත.",
        "singlish": "Sthuthiyi. Ada thawa voice notes saha photos automatically open karanna "
        "bae. {business} eke kenek oyata ikmanata reply karai.",
        "ta": "நன்றி. இன்று மேலும் குரல் செய்திகளையும் புகைப்படங்களையும் தானாகத் திறக்க முடியாது. "
        "{business} இலிருந்து ஒருவர் விரைவில் உங்களுக்குப் பதிலளிப்பார்.",
    },
    # Said before the answer when a voice note was heard with low confidence.
    "heard": {
        "en": "I heard: “{heard}”",
        "si": "මට ඇසුණේ: “{heard}”",
        "singlish": "Mata ahune: “{heard}”",
        "ta": "நான் கேட்டது: “{heard}”",
    },
}


def phrase(key: str, language: str, persona: Persona, business: str) -> str:
    """A phrase in `language` (English where that language has none), in the persona's tone."""
    table = _PHRASES[key]
    text = table.get(language, table["en"]).format(
        name=persona.name, business=business, time="", heard=""
    )
    if key in {"greeting", "thanks"} and persona.tone in {Tone.WARM, Tone.FRIENDLY}:
        text += " 😊"
    return text


def greeting(language: str, persona: Persona, business: str, customer: str | None = None) -> str:
    """The persona's own greeting when it has one that the customer can read, else the
    greeting in `language` (an owner's Sinhala greeting never goes to a Tamil reader, even
    one answered in English because the business does not serve Tamil: `customer` is the
    language they wrote in)."""
    own = persona.greeting
    if own and readable_by(own, language) and (customer is None or readable_by(own, customer)):
        return own
    return phrase("greeting", language, persona, business)


def now_note(language: str, local_time: str) -> str:
    return _PHRASES["now"].get(language, _PHRASES["now"]["en"]).format(time=local_time)


def note_for(knowledge_language: str, reply_language: str) -> str:
    """An honest note that the details are only in another language ("" when none is needed)."""
    key = "in_english" if knowledge_language == "en" else "in_sinhala"
    return _PHRASES[key].get(reply_language, "")


def heard(language: str, transcript: str) -> str:
    """What a voice note was heard to say, for the customer to correct if it was not."""
    if len(transcript) > HEARD_MAX_CHARS:  # a long note: its beginning shows what was heard
        transcript = transcript[:HEARD_MAX_CHARS].rsplit(" ", 1)[0] + "…"
    return _PHRASES["heard"].get(language, _PHRASES["heard"]["en"]).format(heard=transcript)
