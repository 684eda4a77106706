"""Schema building blocks shared by every area: base schema, money, places and times."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import marshmallow as ma
import pycountry
from flask import current_app, has_request_context
from flask_login import current_user
from marshmallow.utils import get_value

from marketplace.config import Config
from marketplace.inputs import Money


class BaseSchema(ma.Schema):
    """Base of every API schema: unknown fields are errors, text no column can hold is refused."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def _refuse_unstorable_text(self, data: Any, **_: Any) -> Any:
        errors = unstorable_text(data)
        if errors:
            raise ma.ValidationError(errors)
        return data


# PostgreSQL refuses NUL in text; a lone UTF-16 surrogate is valid as a JSON escape
# ("\udc00") but has no UTF-8 form, so neither the database nor the password hasher takes it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
NUL_MESSAGE = "Text must not contain NUL characters."
SURROGATE_MESSAGE = "Text must be valid Unicode: it has a lone surrogate code point."

# A path as a linked list (key, parent): extending it costs the same at any depth.
_Path = tuple[Any, "_Path"] | None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return NUL_MESSAGE
    if _LONE_SURROGATE.search(text):
        return SURROGATE_MESSAGE
    return None


def unstorable_text(data: Any) -> dict[Any, Any]:
    """Messages, nested like marshmallow's by field name and list index, for every string in
    `data` (keys included) that has a NUL or a lone surrogate; empty when there is none."""
    errors: dict[Any, Any] = {}
    # Iterative, so a deeply nested body cannot exhaust the stack.
    pending: list[tuple[_Path, Any]] = [(None, data)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                _add_message(errors, path if path is not None else ("_schema", None), problem)
        elif isinstance(item, Mapping):
            for key, value in item.items():
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem:  # a bad name is reported on the object that holds it
                    _add_message(errors, ("_schema", path), f"Field name: {problem}")
                else:
                    pending.append(((key, path), value))
        elif isinstance(item, list | tuple):
            pending.extend(((index, path), value) for index, value in enumerate(item))
    return errors


def _add_message(errors: dict[Any, Any], path: _Path, message: str) -> None:
    keys = []
    while path is not None:
        key, path = path
        keys.append(key)
    *parents, leaf = reversed(keys)
    for key in parents:
        errors = errors.setdefault(key, {})
    messages = errors.setdefault(leaf, [])
    if message not in messages:
        messages.append(message)


@cache
def timezone_names() -> frozenset[str]:
    """Every IANA zone name known to zoneinfo (backed by the tzdata package)."""
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    """An IANA time-zone name such as `Asia/Manila`."""
    if value not in timezone_names():
        raise ma.ValidationError("Unknown time zone; use an IANA name such as 'Europe/London'.")


def validate_country(value: str) -> None:
    """An ISO 3166-1 alpha-2 country code such as `PH`."""
    if len(value) != 2 or not value.isupper() or pycountry.countries.get(alpha_2=value) is None:
        raise ma.ValidationError("Unknown country; use an ISO 3166-1 alpha-2 code such as 'PH'.")


def validate_language(value: str) -> None:
    """An ISO 639-1 language code such as `en`."""
    if len(value) != 2 or not value.islower() or pycountry.languages.get(alpha_2=value) is None:
        raise ma.ValidationError("Unknown language; use an ISO 639-1 code such as 'en'.")


def validate_currency(value: str) -> None:
    """A currency this marketplace settles in (configuration SUPPORTED_CURRENCIES)."""
    supported = current_app.config["SUPPORTED_CURRENCIES"]
    if value not in supported:
        raise ma.ValidationError(f"Unsupported currency; use one of {', '.join(supported)}.")


class CurrencyField(ma.fields.String):
    """A lower-case ISO 4217 code the marketplace settles in."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"enum": list(Config.SUPPORTED_CURRENCIES)})
        super().__init__(validate=validate_currency, **kwargs)


class TimezoneField(ma.fields.String):
    """An IANA time-zone name."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"example": "Asia/Manila"})
        super().__init__(validate=validate_timezone, **kwargs)


class CountryField(ma.fields.String):
    """An ISO 3166-1 alpha-2 country code."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"example": "PH"})
        super().__init__(validate=validate_country, **kwargs)


def frozen_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Loaded fields with each list made a tuple, to build a frozen input dataclass
    (marketplace.inputs) in a schema's `@post_load`."""
    return {name: tuple(v) if isinstance(v, list) else v for name, v in data.items()}


def require_some_field(data: Any) -> Any:
    """An update must change something: an empty body is a 422, not a silent success."""
    if isinstance(data, dict) and not data:
        raise ma.ValidationError("Send at least one field to change.")
    return data


class MoneySchema(BaseSchema):
    """`{"amount": 12500, "currency": "usd"}`: integer minor units and a currency."""

    amount = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=1, max=10**12), strict=True
    )
    currency = CurrencyField(required=True)

    @ma.post_load
    def _money(self, data: dict[str, Any], **_: Any) -> Money:
        return Money(**data)


class ZeroableMoneySchema(MoneySchema):
    """`{"amount": 0, "currency": "usd"}` allowed: money in a request where nothing is a
    valid amount (one side of a dispute's split)."""

    amount = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0, max=10**12), strict=True
    )


class AmountSchema(BaseSchema):
    """`{"amount": 0, "currency": "usd"}`: money as an answer reports it, in integer minor
    units; zero where nothing moved, negative for a ledger debit."""

    amount = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)


class MoneyField(ma.fields.Nested):
    """Money dumped from an object that keeps an amount (the field's attribute) and its
    currency (`currency`, a dotted path) side by side: `{"amount": 12500, "currency": "usd"}`.
    A null amount dumps as null."""

    def __init__(
        self, nested: type[BaseSchema] = AmountSchema, *, currency: str = "currency", **kwargs: Any
    ) -> None:
        super().__init__(nested, **kwargs)
        self.currency_attribute = currency

    def get_value(
        self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing
    ) -> Any:
        """`{"amount", "currency"}` read from the two attributes of `obj`."""
        amount = super().get_value(obj, attr, accessor, default)
        if amount is None or amount is ma.missing:
            return amount
        return {"amount": amount, "currency": get_value(obj, self.currency_attribute)}


class Redacted:
    """A read-only view of an object without some attributes; schemas then omit those fields.

    One schema serves owner and public views: the public gets the object redacted.
    """

    def __init__(self, obj: Any, hidden: frozenset[str]) -> None:
        self._obj = obj
        self._hidden = hidden

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            raise AttributeError(name)
        return getattr(self._obj, name)


class AllowedActionsField(ma.fields.List):
    """`allowed_actions`: what the signed-in user may do with the object now, worked out
    by `compute(obj, user)` (the area's rules: its state machine and who may make each
    move). Each name is an endpoint; `actions` maps the names to them, for the docs."""

    def __init__(
        self, actions: Mapping[str, str], compute: Callable[[Any, Any], list[str]], **kwargs: Any
    ) -> None:
        names = "; ".join(f"`{name}`: {endpoint}" for name, endpoint in actions.items())
        kwargs.setdefault(
            "metadata",
            {
                "description": "What you may do with it now, as the endpoints that do it "
                "will accept (by its state and your side and role; empty when nothing): "
                f"{names}."
            },
        )
        super().__init__(ma.fields.String(validate=ma.validate.OneOf(list(actions))), **kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        """The actions of `obj` for the signed-in user, computed rather than read."""
        if not has_request_context() or not current_user.is_authenticated:
            return []
        return self.compute(obj, current_user._get_current_object())
