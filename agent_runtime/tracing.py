"""LangSmith tracing when its environment variables turn it on, tagged with the tenant.

LangChain would add a tracer of its own from LANGSMITH_TRACING; the agent passes this
one instead, whose client masks phone numbers in every run's inputs, outputs and errors
before they leave the replica (a customer may type a number into a message).
"""

import re

from langchain_core.callbacks import BaseCallbackHandler
from langsmith.utils import tracing_is_enabled

# Nine to fifteen digits with optional spaces or dashes, optionally after "+": Sri Lankan
# mobiles (077 123 4567, +94 77 123 4567) and landlines, and international numbers.
# Prices ("Rs. 1,250") and times stay readable.
PHONE_NUMBER = re.compile(r"(?<![\w+])\+?\d(?:[ -]?\d){8,14}(?!\w)")
PHONE_MASK = "<phone>"


def mask_phone_numbers(text: str) -> str:
    return PHONE_NUMBER.sub(PHONE_MASK, text)


def tenant_tracer(tenant: str) -> BaseCallbackHandler | None:
    """The tracer for this tenant's runs, or None when tracing is off."""
    if not tracing_is_enabled():
        return None
    # The tracer and its client are built only where tracing is on.
    from langchain_core.tracers.langchain import LangChainTracer
    from langsmith import Client
    from langsmith.anonymizer import create_anonymizer

    anonymizer = create_anonymizer([{"pattern": PHONE_NUMBER, "replace": PHONE_MASK}])
    return LangChainTracer(client=Client(anonymizer=anonymizer), tags=[f"tenant:{tenant}"])
