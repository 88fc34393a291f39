"""Which character encoding a fetched HTML page is in, decided as browsers decide it."""

import codecs
import re

# A byte order mark outranks every declaration (WHATWG Encoding, "decode").
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
# <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">.
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
# Browsers look for a <meta> declaration in the first 1024 bytes only.
_PRESCAN_BYTES = 1024
# Labels browsers read as windows-1252: Latin-1 pages routinely use its curly quotes and
# dashes (0x80-0x9F), which ISO-8859-1 proper would turn into control characters.
_WINDOWS_1252_LABELS = frozenset(
    {"ascii", "us-ascii", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1",
     "cp819", "ibm819", "windows-1252", "cp1252", "x-cp1252"}
)  # fmt: skip


def decode_page(content: bytes, header_charset: str | None = None) -> str:
    """`content` decoded by its BOM, else the Content-Type charset, else a <meta> charset,
    else UTF-8; bytes that are not UTF-8 on an undeclared page are read as windows-1252."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(encoding, errors="replace")
    declared = _codec(header_charset) if header_charset else None
    if declared is None:
        meta = _META_CHARSET.search(content[:_PRESCAN_BYTES])
        declared = _codec(meta.group(1).decode("ascii")) if meta else None
        if declared is not None and declared.startswith("utf-16"):
            declared = "utf-8"  # a page that could say so in ASCII is not UTF-16
    if declared is not None:
        return content.decode(declared, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def header_charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type header value, if it has one."""
    found = _HEADER_CHARSET.search(content_type.encode("latin-1", errors="replace"))
    return found.group(1).decode("ascii") if found else None


def _codec(label: str) -> str | None:
    """Python's name for an encoding label, or None for a label no codec knows."""
    label = label.strip().lower()
    if label in _WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None
