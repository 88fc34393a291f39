"""Every text any console page shows is translated into Sinhala and Tamil, in their own
scripts and with the English text's placeholders, and English catalogues hold the source
texts as written. One check for every template, so a new page cannot skip it.

Texts are the literal `_("...")` calls of each template, plus the Python tables whose
values templates translate (labels of languages, tones, days, reasons, events). What is
checked is what a reader gets: every area's catalogue merged, as console/web.py loads them.
"""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from console.conversations import views
from console.insights import pages as insights_pages
from console.setup import pages as setup_pages
from console.web import translations

CONSOLE = Path(views.__file__).resolve().parents[1]
TEMPLATES = CONSOLE / "templates"
LOCALES = CONSOLE / "locales"
# `_("... %(file)s ...", file=...)`: the message id is the literal, with its placeholders.
MESSAGE = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
PLACEHOLDER = re.compile(r"%\(\w+\)s")
SCRIPTS = {"si": "[\u0d80-\u0dff]", "ta": "[\u0b80-\u0bff]"}
# Python tables whose values the templates pass through `_()`.
TABLES: list[dict[str, str]] = [
    views.FILTER_LANGUAGES,
    views.AUTHORS,
    views.EVENTS,
    views.REFUSALS,
    insights_pages.LANGUAGE_LABELS,
    setup_pages.DAY_LABELS,
    setup_pages.TONE_LABELS,
    setup_pages.LANGUAGE_LABELS,
    setup_pages.SINGLISH_LABELS,
]


def template_texts() -> dict[str, set[str]]:
    """Each template's literal texts, by template file name."""
    return {
        path.name: {double or single for double, single in MESSAGE.findall(path.read_text())}
        for path in sorted(TEMPLATES.glob("*.html"))
    }


def shown_texts() -> set[str]:
    texts = set().union(*template_texts().values())
    for table in TABLES:
        texts |= set(table.values())
    return texts


def test_every_page_has_texts_to_check() -> None:
    found = template_texts()
    assert len(found) >= 20
    # Every template says something of its own.
    silent = sorted(name for name, texts in found.items() if not texts)
    assert silent == []
    assert len(shown_texts()) > 200


@pytest.mark.parametrize("language", ["si", "ta"])
def test_every_text_is_translated_in_the_languages_own_script(language: str) -> None:
    catalogue = translations(language)
    untranslated, wrong_script, placeholders = [], [], []
    for text in sorted(shown_texts()):
        words = catalogue.gettext(text)
        if words == text:
            untranslated.append(text)
        elif not re.search(SCRIPTS[language], words):
            wrong_script.append(text)
        if sorted(PLACEHOLDER.findall(words)) != sorted(PLACEHOLDER.findall(text)):
            placeholders.append(text)
    assert (untranslated, wrong_script, placeholders) == ([], [], [])


@pytest.mark.parametrize("language", ["si", "ta", "en"])
def test_every_catalogue_entry_is_filled(language: str) -> None:
    """No entry left empty (gettext would show the English), none for another script."""
    for po in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as source:
            entries = [(str(m.id), str(m.string)) for m in read_po(source) if m.id]
        assert entries, po.name
        assert [text for text, words in entries if not words] == [], po.name
        if language == "en":
            assert [text for text, words in entries if words != text] == [], po.name
        else:
            other = SCRIPTS["ta" if language == "si" else "si"]
            assert [text for text, words in entries if re.search(other, words)] == [], po.name
