"""Prices as people write them: `Rs. 4,500`, read from whatever a sheet or a menu holds.

A spreadsheet cell says `1500`, `1500.0`, `Rs 1500` or `රු. 1,500`; a customer should read
`Rs. 1,500` in every language (Sri Lankan shops print "Rs." on Sinhala and Tamil price
lists alike, so the one form is read by everyone).
"""

import re
from decimal import Decimal, InvalidOperation

CURRENCY = "Rs."
# What marks a price: the rupee in each script, and the ISO code.
_CURRENCY = r"(?:rs\.?|lkr|රු\.?|ரூ\.?|ரூபா)"
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
# A cell or a menu cell that is a price and nothing else ("Rs. 2,600", "රු. 250", "1500").
_PRICE_ONLY = re.compile(rf"^\s*{_CURRENCY}?\s*({_AMOUNT})\s*(?:/-|=/)?\s*$", re.IGNORECASE)
_MARKED = re.compile(rf"^\s*{_CURRENCY}\s*{_AMOUNT}", re.IGNORECASE)


def price_value(text: str) -> Decimal | None:
    """The amount of a cell that holds a price only, else None ("Rs. 300 extra" is None)."""
    match = _PRICE_ONLY.match(text)
    if match is None:
        return None
    try:
        return Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:
        return None


def marked_as_price(text: str) -> bool:
    """Whether a value starts with a currency ("Rs. 250"), which makes its column a price."""
    return _MARKED.match(text) is not None


def rupees(amount: Decimal) -> str:
    """`Rs. 1,500`, `Rs. 1,234.50`: thousands separated, cents only when there are some."""
    if amount == amount.to_integral_value():
        return f"{CURRENCY} {int(amount):,}"
    return f"{CURRENCY} {amount.quantize(Decimal('0.01')):,}"
