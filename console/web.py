"""Pages: Jinja2 templates (autoescaped: a customer's `<script>` is shown as text) in the
reader's language, from gettext catalogues.

Catalogues are `console/locales/<lang>/LC_MESSAGES/<domain>.po`, one domain per area of
the console (`auth`, `conversations`, `base`), compiled in memory at start with Babel, so
the repository holds only the text translators edit. The language is the `lang` cookie,
else the best of the browser's Accept-Language among si, ta and en, else English.
"""

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).resolve().parent
LOCALES = HERE / "locales"
LANGUAGES = ("si", "ta", "en")
LANGUAGE_NAMES = {"si": "සිංහල", "ta": "தமிழ்", "en": "English"}
LANGUAGE_COOKIE = "lang"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """Every domain's catalogue for `language`, merged (English: the source texts)."""
    merged: gettext.NullTranslations = gettext.NullTranslations()
    folder = LOCALES / language / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        domain = gettext.GNUTranslations(buffer)
        domain.add_fallback(merged)
        merged = domain
    return merged


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best, weight = "en", 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        code = tag.split("-", 1)[0].lower()
        try:
            value = float(quality) if quality else 1.0
        except ValueError:
            continue
        if code in LANGUAGES and value > weight:
            best, weight = code, value
    return best


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` in the reader's language."""
    language = language_of(request)
    env = environment().overlay()
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    page = env.get_template(template).render(
        request=request,
        language=language,
        languages=LANGUAGE_NAMES,
        **context,
    )
    return HTMLResponse(page, status_code=status_code)
