"""Turn raw history input (form, API body, ERP push) into clean values, collecting every error.

Same shape as `kehu.customers.cleaning`: one function per record type that
returns the cleaned values present in `data` or raises one ValidationError
naming each bad field. References to other rows (contacts, products, stages)
are resolved by the services, which know the customer and the actor.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.cleaning import Collector as BaseCollector
from kehu.core.cleaning import choice_cleaner, clean_bool, clean_decimal, int_between, text_cleaner
from kehu.core.cleaning import clean_date as parse_date
from kehu.core.inputs import parse_id
from kehu.history.choices import (
    Channel,
    ContactTime,
    Direction,
    NeedStatus,
    OpportunityType,
    OrderStatus,
    StageKind,
    SurveyKind,
    TicketKind,
    TicketStatus,
)
from kehu.history.models import Opportunity, Order, OrderLine, Preference, Product

CENT = Decimal("0.01")
# Arithmetic on cleaned values (line amounts, totals, sums of stored rows) never rounds to
# 28 digits nor raises on a wide intermediate; widths are checked against the columns.
WIDE = Context(prec=1000, rounding=ROUND_HALF_UP)
# Moments are stored in UTC and shown in the local time zone: keep a day clear of the
# limits of datetime so neither conversion (nor a later change of time zone) overflows.
EARLIEST = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)
SURVEY_RANGES = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10)}

__all__ = ["CENT", "Collector", "clean_date", "clean_datetime", "clean_money", "fit_column",
           "quantize"]


class Collector(BaseCollector):
    """One error list per bad field; the history fields that take a list."""

    LIST_FIELDS = frozenset({"interests", "products"})


def quantize(value: Decimal) -> Decimal:
    """To the cent, half up, whatever the size (a sum of stored rows may be wide)."""
    if not value.is_finite():
        return value
    return value.quantize(CENT, context=WIDE)


def fit_column(value: Decimal, model: type[models.Model], name: str) -> Decimal:
    """`value` as `model.name` stores it, or a ValidationError saying why it cannot be stored.

    The precision is the column's own (max_digits, decimal_places), read from the model.
    Nothing is rounded away: a value with more decimals than the column keeps is refused
    (a quantity of 1e-10 is not 0.000), and so is one with more integer digits than it
    holds (SQLite would store it anyway, and reading the row back would fail).
    """
    field = model._meta.get_field(name)
    max_digits, places = field.max_digits, field.decimal_places
    integer_digits = max_digits - places
    if value and value.adjusted() >= integer_digits:
        raise ValidationError(_("超出范围：整数部分最多 %(digits)d 位") % {"digits": integer_digits})
    stored = value.quantize(Decimal(1).scaleb(-places), context=WIDE)
    if stored != value:
        if places == 0:
            raise ValidationError(_("必须是整数"))
        raise ValidationError(_("最多 %(places)d 位小数") % {"places": places})
    return stored if stored else abs(stored)  # no "-0.00"


def money(model: type[models.Model], name: str, *, required: bool = True) -> Callable[[Any], Any]:
    """A cleaner for a non-negative amount stored in `model.name` (a Decimal, never a float)."""

    def clean(value: Any) -> Decimal | None:
        if value is None or value == "":
            if not required:
                return None
            raise ValidationError(_("必填"))
        number = clean_decimal(value)
        if number < 0:
            raise ValidationError(_("金额不能为负数"))
        return fit_column(number, model, name)

    return clean


def clean_money(value: Any) -> Decimal:
    """A non-negative amount that fits the standard money column (an order's total)."""
    return money(Order, "total")(value)


def clean_quantity(value: Any) -> Decimal:
    if value is None or value == "":
        raise ValidationError(_("必填"))
    number = clean_decimal(value)
    if number <= 0:
        raise ValidationError(_("数量必须大于 0"))
    return fit_column(number, OrderLine, "quantity")


def clean_date(value: Any) -> dt.date | None:
    """A calendar day (or None) whose local midnight every time zone can represent."""
    day = parse_date(value)
    if day is not None and not EARLIEST.date() <= day <= LATEST.date():
        raise ValidationError(_("日期超出范围"))
    return day


def clean_datetime(value: Any) -> dt.datetime | None:
    """A date-time (aware, in the current time zone when none is given) or None.

    Refused when it cannot be stored or shown: "0001-01-01T00:00:00" in Beijing is
    before the first moment UTC can represent.
    """
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time.min)
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            moment = _sheet_moment(text)
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        in_range = EARLIEST <= moment.astimezone(dt.UTC) <= LATEST
    except (OverflowError, ValueError):
        in_range = False
    if not in_range:
        raise ValidationError(_("日期超出范围"))
    return moment


# A day as sheets write it (2025/3/8, 2025年3月8日, 2025.3.8 …) and a time after it.
_TIME = re.compile(r"^(?P<day>.+?)[\sT]+(?P<h>\d{1,2})[:：](?P<m>\d{2})(?:[:：](?P<s>\d{2}))?$")


def _sheet_moment(text: str) -> dt.datetime:
    """"2025/3/8 10:30" and the other ways a sheet writes a day and a time; a day alone is
    its midnight. The day goes through the one date parser (`core.cleaning.clean_date`)."""
    found = _TIME.match(text)
    if found is None:
        return dt.datetime.combine(parse_date(text), dt.time.min)
    try:
        clock = dt.time(int(found["h"]), int(found["m"]), int(found["s"] or 0))
    except ValueError as exc:
        raise ValidationError(_("“%(value)s” 不是有效的时间") % {"value": text}) from exc
    return dt.datetime.combine(parse_date(found["day"]), clock)


def clean_required_date(value: Any) -> dt.date:
    day = clean_date(value)
    if day is None:
        raise ValidationError(_("必填"))
    return day




def clean_currency(value: Any) -> str:
    text = str(value or "").strip().upper()
    if len(text) != 3 or not text.isalpha():
        raise ValidationError(_("币种是三个字母的代码，例如 CNY"))
    return text


def clean_ref(value: Any) -> int | None:
    """An id given as a number, a numeric string or a model instance (None when empty).

    Only what an id column can hold (`kehu.core.inputs.parse_id`: 1 to 2^63 - 1), so a
    larger integer is refused here rather than overflowing the query.
    """
    if hasattr(value, "pk"):
        return value.pk
    try:
        return parse_id(value, field="id", required=False)
    except ValidationError as exc:
        raise ValidationError(exc.messages) from exc


def as_id(value: Any) -> int | None:
    """`value` as an id, or None when it is not one (for lookups that report a miss)."""
    try:
        return parse_id(value, field="id")
    except ValidationError:
        return None


def _run_fields(out: Collector, data: dict[str, Any], cleaners: dict[str, Callable]) -> None:
    for field, cleaner in cleaners.items():
        if field in data:
            out.run(field, cleaner, data[field])


def _require(out: Collector, *fields: str) -> None:
    for field in fields:
        if out.cleaned.get(field) in (None, "") and field not in out.errors:
            out.add_error(field, _("必填"))


COMMUNICATION_CLEANERS: dict[str, Callable] = {
    "channel": choice_cleaner(Channel), "direction": choice_cleaner(Direction),
    "occurred_at": clean_datetime, "contact": clean_ref,
    "subject": text_cleaner(200), "content": text_cleaner(20000), "outcome": text_cleaner(500),
    "next_step": text_cleaner(500), "next_follow_up": clean_date,
}


def clean_communication(data: dict[str, Any]) -> dict[str, Any]:
    """Every field is optional: the service fills in now, the primary contact and a channel.

    Optional means "may be left out", not "may be blanked": a channel or a time sent as
    null or "" is refused, on a create as on an update.
    """
    out = Collector()
    _run_fields(out, data, COMMUNICATION_CLEANERS)
    _require(out, *(field for field in ("channel", "occurred_at") if field in data))
    values = out.result()
    if "direction" in values and not values["direction"]:
        values["direction"] = Direction.OUTBOUND
    return values


def clean_product(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out = Collector()
    _run_fields(out, data, {
        "sku": text_cleaner(64), "name": text_cleaner(200), "category": text_cleaner(100),
        "unit_price": money(Product, "unit_price"), "currency": clean_currency,
        "is_active": clean_bool,
    })
    if not partial:
        _require(out, "sku", "name", "unit_price")
    return out.result()


ORDER_CLEANERS: dict[str, Callable] = {
    "number": text_cleaner(64), "external_number": text_cleaner(64), "ordered_on": clean_required_date,
    "status": choice_cleaner(OrderStatus, required=True), "currency": clean_currency,
    "notes": text_cleaner(20000),
}


def clean_order_header(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The order's own fields (not its lines); `ordered_on` defaults to today on create."""
    out = Collector()
    _run_fields(out, data, ORDER_CLEANERS)
    if not partial and "ordered_on" not in data:
        out.cleaned["ordered_on"] = timezone.localdate()
    if out.cleaned.get("external_number") == "":
        out.cleaned["external_number"] = None
    return out.result()


def clean_order_lines(
    lines: Any, products: dict[Any, Any], *, prefix: str = "lines"
) -> tuple[list[dict[str, Any]], Decimal]:
    """Clean [{product, quantity, unit_price?, discount?}] against `products` (by id and by sku).

    Returns the cleaned lines (product resolved, amount computed) and the order total.
    Errors are keyed "lines.<n>.<field>" so a form or an ERP can point at the line; every
    value, the computed line amounts ("lines.<n>.amount") and the total ("total", next to
    `prefix`) must fit their columns. Every path that writes orders (the web form, the API,
    bulk ingestion, imports) comes through here.
    """
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationError({prefix: [_("订单至少需要一行商品")]})
    errors: dict[str, list[str]] = {}
    cleaned = []
    for index, raw in enumerate(lines):
        try:
            cleaned.append(_clean_line(raw, products))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"{prefix}.{index}.{field}"] = messages
    if errors:
        raise ValidationError(errors)
    total = Decimal(0)
    for line in cleaned:
        total = WIDE.add(total, line["amount"])
    try:
        total = fit_column(total, Order, "total")
    except ValidationError as exc:
        raise ValidationError({prefix.removesuffix("lines") + "total": [
            _("订单总额 %(total)s 存不下（%(why)s）") % {"total": total, "why": exc.messages[0]}]}
        ) from exc
    return cleaned, total


def _clean_line(raw: Any, products: dict[Any, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError({"product": [_("每一行需要 product 和 quantity")]})
    out = Collector()
    out.run("product", lambda v: _product(v, products), raw.get("product"))
    out.run("quantity", clean_quantity, raw.get("quantity"))
    out.run("unit_price", money(OrderLine, "unit_price", required=False), raw.get("unit_price"))
    out.run("discount", lambda v: money(OrderLine, "discount")(v or 0), raw.get("discount"))
    line = out.result()
    if line["unit_price"] is None:
        line["unit_price"] = line["product"].unit_price
    gross = WIDE.multiply(line["quantity"], line["unit_price"])
    if line["discount"] > gross:
        raise ValidationError({"discount": [_("折扣 %(discount)s 大于这一行的金额 %(gross)s")
                                            % {"discount": line["discount"], "gross": quantize(gross)}]})
    amount = quantize(WIDE.subtract(gross, line["discount"]))
    try:
        line["amount"] = fit_column(amount, OrderLine, "amount")
    except ValidationError as exc:
        raise ValidationError({"amount": [_("这一行的金额 %(amount)s 存不下（%(why)s）") % {
            "amount": amount, "why": exc.messages[0]}]}) from exc
    return line


def _product(value: Any, products: dict[Any, Any]) -> Any:
    if value in (None, ""):
        raise ValidationError(_("必填"))
    key = value.pk if hasattr(value, "pk") else value
    product = products.get(key)
    if product is None and isinstance(key, str):
        product = products.get(as_id(key))
    if product is None:
        raise ValidationError(_("没有这个产品：%(value)s") % {"value": value})
    return product


def clean_preference(data: dict[str, Any]) -> dict[str, Any]:
    out = Collector()
    _run_fields(out, data, {
        "preferred_channel": choice_cleaner(Channel), "preferred_contact_time": choice_cleaner(ContactTime),
        "budget_min": money(Preference, "budget_min", required=False),
        "budget_max": money(Preference, "budget_max", required=False),
        "currency": clean_currency, "decision_maker": clean_ref, "pain_points": text_cleaner(20000),
        "interests": _names,
    })
    values = out.result()
    low, high = values.get("budget_min"), values.get("budget_max")
    if low is not None and high is not None and low > high:
        raise ValidationError({"budget_max": [_("预算上限不能低于下限")]})
    return values


def _names(value: Any) -> list[str]:
    """Category names from a list or a comma-separated string (either comma)."""
    if value in (None, ""):
        return []
    items = value.replace("，", ",").split(",") if isinstance(value, str) else list(value)
    names = [str(getattr(item, "name", item)).strip()[:100] for item in items]
    return [n for n in dict.fromkeys(names) if n]


def clean_need(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out = Collector()
    _run_fields(out, data, {"content": text_cleaner(20000),
                            "status": choice_cleaner(NeedStatus, required=True)})
    if not partial:
        _require(out, "content")
    return out.result()


def clean_opportunity(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out = Collector()
    _run_fields(out, data, {
        "title": text_cleaner(200), "kind": choice_cleaner(OpportunityType, required=True),
        "amount": lambda v: money(Opportunity, "amount")(v or 0), "currency": clean_currency,
        "expected_close": clean_date, "pipeline": clean_ref, "stage": clean_ref,
        "owner": clean_ref, "products": _refs, "close_reason": text_cleaner(500),
    })
    if not partial:
        _require(out, "title")
    return out.result()


def _refs(value: Any) -> list[Any]:
    """Product references (ids or SKUs) from a list or a comma-separated string."""
    if value in (None, ""):
        return []
    items = value.replace("，", ",").split(",") if isinstance(value, str) else list(value)
    return [getattr(item, "pk", item) for item in items if str(item).strip()]


def clean_pipeline(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out = Collector()
    _run_fields(out, data, {"name": text_cleaner(100), "is_default": clean_bool})
    if not partial or "name" in data:  # a rename to null or "" is no rename
        _require(out, "name")
    return out.result()


def clean_stage(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out = Collector()
    _run_fields(out, data, {
        "pipeline": clean_ref, "name": text_cleaner(100), "position": int_between(0, 10000),
        "probability": int_between(0, 100), "kind": choice_cleaner(StageKind, required=True),
    })
    _require(out, *(f for f in ("pipeline", "name") if not partial or f in data))
    return out.result()


def clean_survey(data: dict[str, Any]) -> dict[str, Any]:
    """CSAT scores run 1–5 and NPS 0–10; the range is checked against the kind."""
    out = Collector()
    _run_fields(out, data, {
        "kind": choice_cleaner(SurveyKind, required=True), "score": int_between(0, 10),
        "comment": text_cleaner(20000), "channel": choice_cleaner(Channel), "answered_on": clean_date,
        "contact": clean_ref,
    })
    _require(out, "kind", "score")
    values = out.result()
    low, high = SURVEY_RANGES[values["kind"]]
    if not low <= values["score"] <= high:
        raise ValidationError({"score": [_("%(kind)s 的分数必须在 %(low)d 到 %(high)d 之间") % {
            "kind": SurveyKind(values["kind"]).label, "low": low, "high": high}]})
    values["answered_on"] = values.get("answered_on") or timezone.localdate()
    return values


def clean_ticket(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out = Collector()
    _run_fields(out, data, {
        "kind": choice_cleaner(TicketKind, required=True), "subject": text_cleaner(200),
        "content": text_cleaner(20000), "status": choice_cleaner(TicketStatus, required=True),
        "handler": clean_ref, "resolution": text_cleaner(20000), "opened_at": clean_datetime,
    })
    if not partial:
        _require(out, "kind", "subject")
    return out.result()
