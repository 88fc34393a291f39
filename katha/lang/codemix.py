"""Code-mixing: which language supplies a Latin message's grammar, and which lends it words."""

from typing import Final

# English closed-class words (articles, pronouns, auxiliaries, prepositions, conjunctions).
# In code-mixing the matrix language supplies the grammar and the other one lends content
# words: "mage order eka cancel karanna" is Singlish with English nouns, "do you deliver to
# Kandy" is English with a Sri Lankan name. So a message whose English grammar words
# outnumber its clearly non-English words stays English. Words that romanised Sinhala or
# Tamil also use (me, we, am, than, or, then, may, was, us, a, an, i) are left out: each
# of these turns up in the Dakshina training text more than a stray few times.
ENGLISH_FRAME_WORDS: Final = frozenset(
    """
    the this that these those my your our his her their its you they he she it them
    is are were be been do does did have has had can could will would should must
    to of in on at for from with by about into near before after until without
    and but not if when where which who how what there here any some much many more
    also just very too
    """.split()  # noqa: SIM905 (a word list reads better as prose than as 70 quoted strings)
)


def clearly_foreign_words(per_word: list[tuple[float, float]], margin: float) -> tuple[int, int]:
    """How many words score clearly Singlish, and how many clearly Tanglish."""
    singlish = sum(1 for s, t in per_word if s > margin and s >= t)
    tanglish = sum(1 for s, t in per_word if t > margin and t > s)
    return singlish, tanglish


def english_frame(words: list[str]) -> int:
    """How many of the words are English grammar words."""
    return sum(1 for word in words if word in ENGLISH_FRAME_WORDS)
