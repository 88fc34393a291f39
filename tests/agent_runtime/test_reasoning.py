"""Simple reasoning without an LLM: amounts priced from unit prices, two questions in one,
follow-ups, and a paragraph cut to the sentences a question names."""

from decimal import Decimal

import pytest

from agent_runtime.generation.arithmetic import Amount, asked_amount, asked_count
from agent_runtime.generation.base import Question
from agent_runtime.generation.grounded import GroundedResponder
from agent_runtime.generation.money import rupees
from agent_runtime.generation.parts import (
    holds,
    is_follow_up,
    leaning_word,
    mentions,
    new_words,
    question_parts,
    states_amount_of,
)
from agent_runtime.generation.rows import read_row, row_cells, say_priced_line, say_row
from agent_runtime.generation.sentences import relevant_sentences
from agent_runtime.retrieval import Passage
from katha.api.business import Persona

MENU_LINE = "Butter cake, 1 kg | Rs. 2,800"


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        ("how much for 2 kg?", Amount(Decimal(2), "kg")),
        ("butter cake kilo 2k kiyada?", Amount(Decimal(2), "kg")),
        ("බටර් කේක් කිලෝ 2ක් කීයද?", Amount(Decimal(2), "kg")),
        ("பட்டர் கேக் 2 கிலோ எவ்வளவு?", Amount(Decimal(2), "kg")),
        ("3 packs of chicken rolls", Amount(Decimal(3), "pack")),
        ("chicken roll packs 3k kiyada", Amount(Decimal(3), "pack")),
        ("how much is a butter cake?", None),
    ],
)
def test_amounts_are_read_as_customers_write_them(question: str, amount: Amount | None) -> None:
    assert asked_amount(question) == amount


def test_a_listed_unit_price_is_multiplied_for_the_amount_asked() -> None:
    asked = asked_amount("how much for 2 kg?")
    assert say_priced_line(MENU_LINE, "en", asked) == (
        "Butter cake, 1 kg, 2 kg: Rs. 5,600 (Rs. 2,800 per kg)."
    )
    assert say_priced_line(MENU_LINE, "si", asked) == (
        "Butter cake, 1 kg, කිලෝ 2: Rs. 5,600 (කිලෝ 1 Rs. 2,800 බැගින්)."
    )


def test_grams_convert_to_kilograms_and_other_units_do_not_multiply() -> None:
    love_cake = "Love cake, 500 g | Rs. 2,200"
    assert "Rs. 4,400" in (say_priced_line(love_cake, "en", asked_amount("1 kg?")) or "")
    packs = say_priced_line(MENU_LINE, "en", asked_amount("3 packs?"))
    assert packs == "Butter cake, 1 kg: Rs. 2,800"  # the listed price, as it is


def test_a_pack_column_is_multiplied_for_packs_and_the_price_of_one_for_a_count() -> None:
    row = read_row(
        row_cells("Item: Chicken roll | Price (Rs.) Each: 160 | Price (Rs.) Pack of 10: 1500") or []
    )
    packs = say_row(row, "en", "3 packs", asked_amount("3 packs"))
    assert packs == "Chicken roll, 3 packs: Rs. 4,500 (Rs. 1,500 per pack)."
    assert say_row(row, "en", "", None) == ("Chicken roll: Rs. 160 (Each), Rs. 1,500 (Pack of 10)")


def test_a_number_in_the_item_name_is_no_count() -> None:
    assert asked_count("how much is an iPhone 11 screen?", "iPhone 11 screen") is None
    assert asked_count("how much for 3 shirts?", "Gents shirt") == 3
    assert asked_count("kalisam dekak mahanna kiyada?", "Trouser") == 2


TROUSER = "Trouser shortening කලිසම කොට කිරීම"


@pytest.mark.parametrize(
    ("question", "item", "count"),
    [
        ("How much for 3 tempered glass screen guards?", "Tempered glass screen guard", 3),
        ("shirt 3k kiyada?", "Gents shirt", 3),
        ("kalisam 2k kota karanna kiyada?", TROUSER, 2),
        ("කලිසම් 2ක් කොට කරන්න කීයද?", TROUSER, 2),
        ("fish bun 4 pieces?", "Fish bun", 4),
        ("blouse deka size 36 kiyada?", "Blouse fitting", 2),
    ],
)
def test_a_count_is_a_number_next_to_the_items_noun_or_a_count_word(
    question: str, item: str, count: int
) -> None:
    assert asked_count(question, item) == count


@pytest.mark.parametrize(
    ("question", "item"),
    [
        ("How much to shorten trousers, waist 34?", TROUSER),  # a size
        ("blouse stitching for a 12 year old girl?", "Blouse stitching for girls"),  # an age
        ("price of saree blouse size 36", "Saree blouse stitching"),  # a size
        ("open till 8 today? cake price?", "Chocolate cake"),  # a time
        ("price for 2 lbs?", "Butter cake"),  # a unit we do not know: not items
        ("trousers from 5 to 7 days?", TROUSER),
        ("Moto g 5 screen price?", "Moto g 5 screen replacement"),  # the item's name
    ],
)
def test_sizes_ages_times_and_unknown_units_are_no_count(question: str, item: str) -> None:
    assert asked_count(question, item) is None


@pytest.mark.parametrize(
    "question", ["Moto g 5 screen price?", "Galaxy A52 5G screen kiyada?", "price for 2 lbs?"]
)
def test_a_letter_in_a_model_name_is_no_unit(question: str) -> None:
    assert asked_amount(question) is None


def test_a_size_in_the_question_leaves_the_listed_price_as_it_is() -> None:
    row = read_row(
        row_cells("Alteration: Trouser shortening | සිංහලෙන්: කලිසම කොට කිරීම | Price (Rs.): 600") or []
    )
    question = "How much to shorten trousers, waist 34?"
    assert say_row(row, "en", question, asked_amount(question)) == "Trouser shortening: Rs. 600"
    question = "kalisam 2k kota karanna kiyada?"
    assert say_row(row, "singlish", question, asked_amount(question)) == (
        "kalisama kota kirima 2k: Rs. 1,200 (ekak Rs. 600 gane)."
    )


def test_prices_have_thousands_separators() -> None:
    assert rupees(Decimal("1500")) == "Rs. 1,500"
    assert rupees(Decimal("1234.5")) == "Rs. 1,234.50"


def test_a_row_names_its_item_in_the_readers_language() -> None:
    row = read_row(row_cells("item_en: Trouser | item_si: කලිසම | price_lkr: 2500 | days: 7") or [])
    assert say_row(row, "en", "", None) == "Trouser: Rs. 2,500. It takes 7 days."
    assert say_row(row, "si", "", None) == "කලිසම මිල Rs. 2,500. ගතවන කාලය දින 7."
    assert say_row(row, "singlish", "kalisam kiyada", None) == (
        "kalisama mila Rs. 2,500. kalaya dawas 7."
    )
    assert say_row(row, "ta", "", None) == "Trouser விலை Rs. 2,500. ஆகும் நேரம் 7 நாட்கள்."


@pytest.mark.parametrize(
    ("text", "language", "parts"),
    [
        (
            "what time do you open and do you deliver?",
            "en",
            ["what time do you open?", "do you deliver?"],
        ),
        ("do you accept Visa and Mastercard?", "en", ["do you accept Visa and Mastercard?"]),
        (
            "kade arinne kiyatada saha delivery karanawada?",
            "singlish",
            ["kade arinne kiyatada?", "delivery karanawada?"],
        ),
        ("ඔබ කීයටද අරින්නේ සහ ඩිලිවරි කරනවද?", "si", ["ඔබ කීයටද අරින්නේ?", "ඩිලිවරි කරනවද?"]),
        (
            "கடை எப்போது திறக்கும்? டெலிவரி செய்வீர்களா?",
            "ta",
            ["கடை எப்போது திறக்கும்?", "டெலிவரி செய்வீர்களா?"],
        ),
    ],
)
def test_a_message_asking_two_things_is_split(text: str, language: str, parts: list[str]) -> None:
    assert question_parts(text, language) == parts


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("and for Samsung?", "en"),
        ("ehema nam Samsung ekata?", "singlish"),
        ("සැම්සුන් එකට?", "si"),
        ("சாம்சங்குக்கு?", "ta"),
    ],
)
def test_follow_ups_are_recognised_and_hold_their_brand_in_any_script(
    text: str, language: str
) -> None:
    assert is_follow_up(text, language)
    (word,) = new_words(text, language)
    assert holds("Model: Samsung Galaxy A52 | Repair: screen", word)
    assert not holds("Model: iPhone 11 | Repair: screen", word)


def test_a_full_question_is_no_follow_up() -> None:
    assert not is_follow_up("Do you deliver?", "en")
    assert not is_follow_up("How much is a screen replacement for an iPhone 11?", "en")


def test_a_part_asking_how_much_of_one_thing_leans_on_the_part_before_it() -> None:
    assert leaning_word("How many hours?", "en") == "hours"
    assert leaning_word("paya kiyada?", "singlish") == "paya"
    assert leaning_word("පැය කීයද?", "si") == "පැය"
    assert leaning_word("எத்தனை நாள்?", "ta") == "நாள்"
    assert leaning_word("What are your hours?", "en") is None
    assert leaning_word("Do you have AC?", "en") is None
    assert leaning_word("How much is the box?", "en") is None  # names its thing
    assert leaning_word("How much?", "en") is None  # asks of nothing named
    assert leaning_word("How much is?", "en") is None


def test_an_amount_is_stated_by_a_sentence_naming_the_thing_with_a_number() -> None:
    assert states_amount_of("Rs. 18,500. It takes 2 hours.", "hours")
    assert states_amount_of("Parking for two cars in the lane.", "cars")
    assert not states_amount_of("In April we make Avurudu sweet boxes.", "boxes")
    assert not states_amount_of("Open 9 am to 7 pm. Ask about boxes.", "boxes")


def test_a_short_word_is_mentioned_only_at_a_words_start_and_in_any_language() -> None:
    assert mentions("It takes 2 hours.", "hours")
    assert mentions("It takes 2 hours.", "පැය")  # "hour"
    assert mentions("It takes 2 hours.", "paya")
    assert not mentions("a quiet room at the back of the house", "AC")
    assert mentions("Every room has AC and hot water.", "AC")


def test_a_paragraph_is_cut_to_the_sentences_the_question_names() -> None:
    about = (
        "Senkadagala Bakery opened in 1994. We are at 12 Yatinuwara Veediya, Kandy. "
        "Rs. 250 buys a fresh loaf."
    )
    said = relevant_sentences(about, lambda part: int("Yatinuwara" in part))
    assert said == "We are at 12 Yatinuwara Veediya, Kandy."
    assert relevant_sentences(about, lambda part: 0) == about
    by_train = "Coming by train? Galle station is 1.5 km from us. Tuk-tuks wait outside."
    assert relevant_sentences(by_train, lambda part: int("train" in part)) == (
        "Galle station is 1.5 km from us."
    )


def test_sinhala_facts_for_a_tamil_reader_are_handed_over_not_shown() -> None:
    sinhala = Passage(
        "s",
        "faq",
        "inline:faq",
        "faq 2",
        "faq",
        "si",
        "ඔබ ඩිලිවරි කරනවාද?\nඔව්, රු. 250කට ඩිලිවරි කරනවා.",
        similarity=0.9,
    )
    question = Question("டெலிவரி?", "ta", [sinhala], "Mihiri Bakery", Persona(name="Nila"))
    assert GroundedResponder().answer(question) is None
