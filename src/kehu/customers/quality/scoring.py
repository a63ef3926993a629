"""The completeness score: admin-set weights per field, computed set-based in SQL.

A customer earns a field's weight when the field holds something; the score is what it
earned out of what applies to it, 0–100, rounded (the credit code applies to companies
only). One `INSERT … SELECT … ON CONFLICT DO UPDATE` per range of customer ids writes
the scores (SQLite and PostgreSQL alike), leaving the rest of the quality row — problems,
verification — as it is. The same presence tests, one column each, say which fields a
single customer lacks (`missing_fields`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers.choices import CustomerKind
from kehu.customers.models import Contact, Customer, CustomField, CustomValue
from kehu.customers.quality.models import CustomerQuality, QualitySettings

MAX_WEIGHT = 100


@dataclass(frozen=True)
class QualityField:
    """A field that counts: its key, label, shipped weight and the test that it is filled."""

    key: str
    label: Any
    default: int
    filled: Callable[[], Q]
    companies_only: bool = False


def _contacts() -> Q:
    return Q(Exists(Contact.objects.filter(customer_id=OuterRef("pk"))))


FIELDS: tuple[QualityField, ...] = (
    QualityField("name", _("客户名称"), 5, lambda: ~Q(name="")),
    QualityField("short_name", _("简称"), 5, lambda: ~Q(short_name="")),
    QualityField("phone", _("电话"), 20, lambda: ~Q(phones=[])),
    QualityField("email", _("邮箱"), 10, lambda: ~Q(emails=[])),
    QualityField("credit_code", _("统一社会信用代码（企业）"), 15, lambda: ~Q(credit_code=""),
                 companies_only=True),
    QualityField("industry", _("行业"), 10, lambda: ~Q(industry="")),
    QualityField("region", _("省份和城市"), 10, lambda: ~Q(province="") & ~Q(city="")),
    QualityField("address", _("详细地址"), 5, lambda: ~Q(address="")),
    QualityField("contacts", _("至少一个联系人"), 15, _contacts),
    QualityField("owner", _("负责人"), 5, lambda: Q(owner__isnull=False)),
)
CUSTOM_DEFAULT = 0  # a new custom field counts once an admin gives it a weight


def _custom_filled(custom: CustomField) -> Callable[[], Q]:
    column = custom.value_column

    def filled() -> Q:
        values = CustomValue.objects.filter(customer_id=OuterRef("pk"), field_id=custom.pk,
                                            **{f"{column}__isnull": False})
        if column == "text":
            values = values.exclude(text="")
        return Q(Exists(values))

    return filled


def quality_fields(custom_fields: Iterable[CustomField] | None = None) -> list[QualityField]:
    """Every field that may count: the built-in ones, then each active custom field."""
    customs = CustomField.objects.filter(is_active=True) if custom_fields is None else custom_fields
    return [*FIELDS, *(QualityField(f"cf.{c.key}", c.label, CUSTOM_DEFAULT, _custom_filled(c))
                       for c in customs)]


def quality_settings() -> QualitySettings:
    """The one settings row (created with the shipped defaults on first use)."""
    row = QualitySettings.objects.order_by("pk").first()
    return row if row is not None else QualitySettings.objects.create()


def weights_of(row: QualitySettings, fields: list[QualityField]) -> dict[str, int]:
    """Each field's weight: the admin's, else the shipped default."""
    stored = row.weights or {}
    return {f.key: int(stored.get(f.key, f.default)) for f in fields}


@dataclass(frozen=True)
class Scoring:
    """The fields with a weight and the SQL expression of the score over them."""

    fields: list[QualityField]
    weights: dict[str, int]

    @classmethod
    def current(cls) -> Scoring:
        fields = quality_fields()
        return cls(fields, weights_of(quality_settings(), fields))

    def expression(self) -> Any:
        """The score of the row, 0–100: integer arithmetic on both databases, rounded half up."""
        counted = [f for f in self.fields if self.weights[f.key] > 0]
        base = sum(self.weights[f.key] for f in counted if not f.companies_only)
        if not counted:
            return Value(100, output_field=IntegerField())
        earned: Any = Value(0, output_field=IntegerField())
        total: Any = Value(base, output_field=IntegerField())
        for f in counted:
            weight = Value(self.weights[f.key], output_field=IntegerField())
            test = f.filled() & Q(kind=CustomerKind.COMPANY) if f.companies_only else f.filled()
            earned = earned + Case(When(test, then=weight), default=Value(0),
                                   output_field=IntegerField())
            if f.companies_only:
                total = total + Case(When(kind=CustomerKind.COMPANY, then=weight),
                                     default=Value(0), output_field=IntegerField())
        score = ExpressionWrapper((earned * 200 + total) / (total * 2),
                                  output_field=IntegerField())
        if base:
            return score
        # Only company fields count: a person has nothing to miss.
        return Case(When(kind=CustomerKind.COMPANY, then=score), default=Value(100),
                    output_field=IntegerField())

    def missing(self, customer_id: int) -> list[QualityField]:
        """The counted fields this customer lacks, heaviest first (one query)."""
        counted = [f for f in self.fields if self.weights[f.key] > 0]
        flags = {f"f{i}": Case(When(f.filled(), then=Value(1)), default=Value(0),
                               output_field=IntegerField()) for i, f in enumerate(counted)}
        row = Customer.objects.filter(pk=customer_id).annotate(**flags).values(
            "kind", *flags).first()
        if row is None:
            return []
        lacking = [f for i, f in enumerate(counted) if not row[f"f{i}"]
                   and (not f.companies_only or row["kind"] == CustomerKind.COMPANY)]
        return sorted(lacking, key=lambda f: -self.weights[f.key])


def scores_write(customers: QuerySet[Customer], *, scoring: Scoring | None = None) -> int:
    """Score `customers` (a queryset on Customer) into their quality rows: one statement.
    Returns the number of rows written."""
    scoring = scoring or Scoring.current()
    select = customers.annotate(score=scoring.expression()).values_list("pk", "score")
    sql, params = select.query.sql_with_params()
    table = CustomerQuality._meta.db_table
    empty = "CAST('[]' AS jsonb)" if connection.vendor == "postgresql" else "'[]'"
    statement = (
        f"INSERT INTO {table} (customer_id, completeness, scored_at, problems, problem_count) "
        f"SELECT s.*, %s, {empty}, 0 FROM ({sql}) AS s WHERE true "  # s: (id, score)
        "ON CONFLICT (customer_id) DO UPDATE SET completeness = excluded.completeness, "
        "scored_at = excluded.scored_at")
    with connection.cursor() as cursor:
        cursor.execute(statement, [timezone.now(), *params])
        return cursor.rowcount


def scores_refresh(ids: Iterable[int], *, scoring: Scoring | None = None) -> int:
    """Re-score a few customers (after their writes)."""
    ids = sorted(set(ids))
    written = 0
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        written += scores_write(Customer.objects.filter(pk__in=chunk, deleted_at__isnull=True),
                                scoring=scoring)
    return written


def scores_range(first: int, last: int, *, scoring: Scoring | None = None) -> int:
    """Score the live customers with first <= id < last (a unit of the nightly run)."""
    return scores_write(Customer.objects.filter(pk__gte=first, pk__lt=last,
                                                deleted_at__isnull=True), scoring=scoring)


def stale_q(days: int, *, now: Any = None) -> Q:
    """On Customer: neither updated nor verified in the last `days` days."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    return touched_before(cutoff)


def current_q(days: int, *, now: Any = None) -> Q:
    """On Customer: updated or verified in the last `days` days (not stale)."""
    return touched_since((now or timezone.now()) - dt.timedelta(days=days))


def touched_since(moment: Any) -> Q:
    """On Customer: updated or verified at `moment` or later."""
    return Q(updated_at__gte=moment) | Q(quality__verified_at__gte=moment)


def touched_before(moment: Any) -> Q:
    """On Customer: its last update and its last verification are both before `moment`."""
    return Q(updated_at__lt=moment) & (Q(quality__verified_at__isnull=True)
                                       | Q(quality__verified_at__lt=moment))
