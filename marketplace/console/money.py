"""Money on the console's pages: minor units shown in major ones with the currency, and
amounts typed in major units read back exactly (Decimal, never float)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from marketplace.console.site import console


class AmountError(ValueError):
    """An amount typed in a form that is not one (its message is shown beside the field)."""


def precision(currency: str) -> int:
    """How many decimals the currency's minor unit has (2 for usd, 0 for jpy)."""
    return int(get_currency_precision(currency.upper()))


def to_major(amount: int, currency: str) -> Decimal:
    """Minor units as an exact amount in major units: 60000 usd is 600.00."""
    places = precision(currency)
    return Decimal(int(amount)).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def field_value(amount: int, currency: str) -> str:
    """An amount as a form's field holds it: `600.00` (no grouping, so it reads back)."""
    return str(to_major(amount, currency))


@console.app_template_filter("major_units")
def major_units(amount: int, currency: str) -> str:
    """An amount for reading: `1,200.00 USD`."""
    return f"{to_major(amount, currency):,} {currency.upper()}"


#: The longest amount a form takes, in characters (far above any amount held in escrow).
MAX_DIGITS = 18


def parse_major(raw: str, currency: str) -> int:
    """An amount typed in major units (`600`, `600.5`, `1,200.00`) as minor units; raises
    AmountError for text that is not an amount, a negative one, or one finer than the
    currency's minor unit."""
    text = raw.strip().replace(",", "").replace(" ", "")
    if not text:
        raise AmountError("Enter an amount.")
    if len(text) > MAX_DIGITS or "e" in text.lower():
        raise AmountError("Enter an amount in figures, like 600.00.")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AmountError("Enter an amount in figures, like 600.00.") from None
    if not value.is_finite():
        raise AmountError("Enter an amount in figures, like 600.00.")
    if value < 0:
        raise AmountError("The amount cannot be negative.")
    places = precision(currency)
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise AmountError(f"Use at most {places} decimals for {currency.upper()}.")
    return int(minor)
