"""A sample bilingual business for agent tests and the benchmark: Mihiri Bakery in Kandy.

Its knowledge is what a real shop hands over: a PDF menu (an English page and a Sinhala
page, real text layers in Noto fonts), a price workbook (.xlsx) and FAQs in both languages.
"""

import re
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONTS = Path("/usr/share/fonts/truetype/noto")
_SINHALA_RUNS = re.compile(r"[\u0d80-\u0dff\u200d]+|[^\u0d80-\u0dff\u200d]+")

# A line is a heading, or (item, price) cells drawn in two columns as menus are.
MENU_PAGES: list[list[str | tuple[str, str]]] = [
    [
        "Mihiri Bakery cake menu",
        ("Chocolate fudge cake, 1 kg", "Rs. 4,800"),
        ("Butter cake, 1 kg", "Rs. 2,600"),
        ("Ribbon cake, 1 kg", "Rs. 2,900"),
        ("Eggless vanilla cake, 1 kg", "Rs. 3,400"),
        ("Love cake, 500 g", "Rs. 2,200"),
        ("Name written on a birthday cake", "Rs. 300 extra"),
    ],
    [
        "මිහිරි බේකරියේ කේක් මෙනුව",
        ("චොකලට් ෆජ් කේක් කිලෝ 1", "රු. 4,800"),
        ("බටර් කේක් කිලෝ 1", "රු. 2,600"),
        ("රිබන් කේක් කිලෝ 1", "රු. 2,900"),
        ("බිත්තර නැති වැනිලා කේක් කිලෝ 1", "රු. 3,400"),
        ("ලව් කේක් ග්‍රෑම් 500", "රු. 2,200"),
    ],
]

PRICE_ROWS: list[tuple[str, str, int]] = [
    ("Fish bun", "මාළු බනිස්", 120),
    ("Egg roll", "බිත්තර රෝල්", 150),
    ("Chicken pastry", "චිකන් පේස්ට්‍රි", 180),
    ("Sandwich bread loaf", "පාන් ගෙඩිය", 220),
    ("Kimbula bun", "කිඹුලා බනිස්", 90),
    ("Plain tea", "කහට", 60),
    ("Milk tea", "කිරි තේ", 100),
    ("Iced coffee", "අයිස් කෝපි", 350),
]

FAQ_ITEMS: list[dict[str, str]] = [
    {
        "q": "What are your opening hours?",
        "a": "We are open every day from 6.30 am to 9 pm, and from 8 am to 1 pm on Poya days.",
    },
    {
        "q": "ඔබ විවෘත වෙලාවන් මොනවාද?",
        "a": "අපි සෑම දිනකම උදේ 6.30 සිට රාත්‍රී 9 දක්වා විවෘතයි. පෝය දිනවල උදේ 8 සිට දහවල් 1 දක්වා.",
    },
    {
        "q": "Do you deliver?",
        "a": "Yes, we deliver within 5 km of Kandy town for Rs. 250; orders above Rs. 5,000 "
        "are delivered free.",
    },
    {
        "q": "ඔබ ඩිලිවරි කරනවාද?",
        "a": "ඔව්, මහනුවර නගරයේ සිට කිලෝමීටර් 5ක් ඇතුළත රු. 250කට ඩිලිවරි කරනවා. රු. 5,000ට වැඩි ඇණවුම් නොමිලේ.",
    },
    {
        "q": "How early should I order a birthday cake?",
        "a": "Please order custom birthday cakes at least two days in advance.",
    },
    {
        "q": "උපන්දින කේක් එකක් කලින් ඇණවුම් කළ යුත්තේ කොපමණ කාලයකට පෙරද?",
        "a": "විශේෂ උපන්දින කේක් අවම වශයෙන් දින දෙකකට කලින් ඇණවුම් කරන්න.",
    },
    {
        "q": "Can I pay by card?",
        "a": "Yes, we accept Visa, Mastercard and LankaQR. Cash on delivery is also fine.",
    },
    {
        "q": "කාඩ් එකෙන් ගෙවන්න පුළුවන්ද?",
        "a": "ඔව්, Visa, Mastercard සහ LankaQR භාරගන්නවා. ඩිලිවරි වලදී මුදලින් ගෙවීමත් හැකියි.",
    },
    {
        "q": "Where is the bakery?",
        "a": "We are at 42 Peradeniya Road, Kandy, opposite the Kandy City Centre car park.",
    },
    {
        "q": "බේකරිය තියෙන්නේ කොහේද?",
        "a": "අපි මහනුවර, පේරාදෙණිය පාර අංක 42 හි, නුවර සිටි සෙන්ටර් වාහන නැවැත්වීමට ඉදිරිපිටින්.",
    },
]


def write_pdf(path: Path, pages: list[list[str | tuple[str, str]]], title: str) -> Path:
    """A PDF with a real text layer; Sinhala runs in Noto Sans Sinhala, as real menus do."""
    if "Sinhala" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Sinhala", str(FONTS / "NotoSansSinhala-Regular.ttf")))
    pdf = canvas.Canvas(str(path))
    pdf.setTitle(title)
    for lines in pages:
        for number, line in enumerate(lines):
            cells = (line,) if isinstance(line, str) else line
            for column, cell in enumerate(cells):
                _draw(pdf, 60.0 + 250 * column, 780.0 - 18 * number, cell)
        pdf.showPage()
    pdf.save()
    return path


def _draw(pdf: canvas.Canvas, x: float, y: float, text: str) -> None:
    for run in _SINHALA_RUNS.findall(text):
        sinhala = "\u0d80" <= run[0] <= "\u0dff" or run[0] == "\u200d"
        font = "Sinhala" if sinhala else "Helvetica"
        pdf.setFont(font, 12)
        pdf.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, 12)


def write_price_list(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "Prices"
    sheet.append(("Item", "සිංහල නම", "Price (Rs.)"))
    for row in PRICE_ROWS:
        sheet.append(row)
    workbook.save(path)
    return path


def write_bakery(knowledge_dir: Path) -> None:
    """The bakery's files, where `file:` sources of `bakery_spec()` find them."""
    knowledge_dir.mkdir(parents=True, exist_ok=True)
    write_pdf(knowledge_dir / "menu.pdf", MENU_PAGES, title="Mihiri Bakery cake menu")
    write_price_list(knowledge_dir / "prices.xlsx")


def bakery_spec(**overrides: Any) -> dict[str, Any]:
    """The Business spec (camelCase, as in its YAML) of Mihiri Bakery."""
    spec: dict[str, Any] = {
        "displayName": "Mihiri Bakery",
        "whatsapp": {
            "phoneNumberId": "105954558954427",
            "credentialsSecretRef": {"name": "mihiri-whatsapp"},
        },
        "persona": {"name": "Nila", "tone": "warm", "languages": []},
        "knowledge": {
            "sources": [
                {"type": "pdf", "name": "menu", "file": "menu.pdf"},
                {"type": "spreadsheet", "name": "prices", "file": "prices.xlsx"},
                {"type": "faq", "name": "faq", "items": FAQ_ITEMS},
            ]
        },
        "handoff": {"enabled": True, "ownerNumber": "+94771234567"},
    }
    spec.update(overrides)
    return spec


TEA_FAQ: list[dict[str, str]] = [
    {
        "q": "What teas do you sell?",
        "a": "We sell Dimbula, Nuwara Eliya and Uva high-grown teas, loose leaf only.",
    },
    {"q": "How much is 100 g of Uva tea?", "a": "100 g of Uva BOP costs Rs. 950."},
    {
        "q": "When are you open?",
        "a": "Dilmah Corner is open from 10 am to 6 pm, closed on Mondays.",
    },
    {"q": "තේ කොළ කීයද?", "a": "ඌව තේ ග්‍රෑම් 100ක් රු. 950යි."},
]


def bakery_with_pizza_faq_spec() -> dict[str, Any]:
    """The bakery's knowledge changed: one more FAQ (a refresh must pick it up)."""
    items = [*FAQ_ITEMS, {"q": "Do you sell pizza?", "a": "No, we only bake cakes and buns."}]
    return bakery_spec(
        knowledge={
            "sources": [
                {"type": "pdf", "name": "menu", "file": "menu.pdf"},
                {"type": "spreadsheet", "name": "prices", "file": "prices.xlsx"},
                {"type": "faq", "name": "faq", "items": items},
            ]
        }
    )


def tea_shop_spec() -> dict[str, Any]:
    """A second tenant whose answers must never reach the bakery's customers."""
    return bakery_spec(
        displayName="Dilmah Corner",
        persona={"name": "Ravi", "tone": "professional"},
        knowledge={"sources": [{"type": "faq", "name": "faq", "items": TEA_FAQ}]},
    )
