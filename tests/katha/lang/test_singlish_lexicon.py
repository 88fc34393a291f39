"""The Dakshina Singlish lexicon: typed loanwords and sound spellings meet Sinhala script."""

import gzip
import json
from importlib.resources import files
from types import ModuleType

import pytest

from katha.lang import fold_romanized, romanize
from katha.lang.singlish_lexicon import LEXICON_FILE, romanised_forms, sinhala_forms

from .conftest import DATA, REPO, _load


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    if not DATA.is_dir():
        pytest.fail(f"reference data missing: {DATA} (see the project README)")
    return _load("build_singlish_lexicon", REPO / "scripts" / "build_singlish_lexicon.py")


def test_loanwords_typed_after_english_meet_their_sinhala_spelling() -> None:
    assert sinhala_forms("card")[0] == "කාඩ්"
    assert sinhala_forms("Cake")[0] == "කේක්"
    assert "kek" in romanised_forms("cake")  # the index's romanised column for කේක්


def test_vowels_typed_after_sound_meet_the_letters() -> None:
    # නැති romanises "nethi"; people type "nathi".
    assert "නැති" in sinhala_forms("nathi")
    assert fold_romanized(romanize("නැති")) in romanised_forms("nathi")


def test_words_the_romanised_column_already_meets_are_left_out() -> None:
    assert sinhala_forms("thiyenawa") == ()  # folds onto romanize("තියෙනවා") already
    assert sinhala_forms("zzzz") == ()


def test_the_shipped_lexicon_is_what_the_script_builds_and_names_its_source(
    builder: ModuleType,
) -> None:
    shipped = files("katha.lang").joinpath("data", LEXICON_FILE).read_bytes()
    assert builder.encoded(builder.build(builder.SOURCE, builder.SENTENCES)) == shipped
    assert "Dakshina" in json.loads(gzip.decompress(shipped))["source"]
