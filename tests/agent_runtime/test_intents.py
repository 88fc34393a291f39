"""What customers want, in the words they use."""

import pytest

from agent_runtime.intents import Intent, classify


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Hi!", Intent.GREETING),
        ("hello nila", Intent.GREETING),
        ("ආයුබෝවන්", Intent.GREETING),
        ("ayubowan kohomada", Intent.GREETING),
        ("வணக்கம்", Intent.GREETING),
        ("Hi, what time do you open?", Intent.QUESTION),
        ("thank you so much", Intent.THANKS),
        ("ස්තූතියි", Intent.THANKS),
        ("sthuthiyi", Intent.THANKS),
        ("thanks, how much is the fish bun?", Intent.QUESTION),
        ("Can I talk to a person please", Intent.HUMAN),
        ("මනුස්සයෙක් එක්ක කතා කරන්න ඕනේ", Intent.HUMAN),
        ("owner ekka katha karanna ona", Intent.HUMAN),
        ("The cake was stale, I want a refund", Intent.COMPLAINT),
        ("order eka thama awe naha, parakku wadi", Intent.COMPLAINT),
        ("වැරදි ඇණවුම ලැබුණේ", Intent.COMPLAINT),
        ("you idiot", Intent.ABUSE),
        ("Guaranteed profit! crypto investment, click this link", Intent.ABUSE),
        ("who won the cricket match?", Intent.OUT_OF_SCOPE),
        ("what is the weather in Kandy", Intent.OUT_OF_SCOPE),
        ("butter cake eka kiyada", Intent.QUESTION),
        ("history of the hill country", Intent.QUESTION),  # "hi" inside a word is not a greeting
    ],
)
def test_intent(text: str, intent: Intent) -> None:
    assert classify(text) is intent
