"""The history demo step: three years of orders, calls, opportunities, surveys and complaints.

Registered in `kehu.demo.STEPS` by HistoryConfig.ready(); writes the history of each
batch of demo customers in that batch's transaction (see the step contract in
`kehu.demo`). Deterministic for a seed and resumable: a batch draws only from
`batch.rng_for("history")` and `ctx.now`, and takes its first order and opportunity
ids from the database as the batch finds it, so batch k writes the same rows whether
the run started at 0 or resumed at k. Built for ten million orders: rows are parameter
tuples written with one prepared INSERT per table; order and opportunity ids are
computed here so their lines and products need no read-back.

Shape of the data: about 20% of customers are regular buyers who place most
orders (≈10 orders per customer on average); order dates follow month weights
(a January peak before 春节, a quiet February, a Q4 peak) and never precede the
customer's creation.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, models

from kehu.customers.models import Contact, Customer
from kehu.demo import Batch, BatchWriter, DemoContext, Step
from kehu.demo.load import next_id, sequence_past
from kehu.history import demo_words as words
from kehu.history.models import (
    Communication,
    Need,
    Opportunity,
    Order,
    OrderLine,
    Preference,
    Product,
    ProductCategory,
    Stage,
    Survey,
    Ticket,
)

YEARS = 3
HEAVY_SHARE = 0.2
HEAVY_MEAN, LIGHT_MEAN = 40.0, 2.5  # 0.2 × 40 + 0.8 × 2.5 = 10 orders per customer
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
OppProducts = Opportunity.products.through
MODELS = (Order, OrderLine, Communication, Opportunity, OppProducts, Need, Preference, Survey, Ticket)


@dataclass(frozen=True)
class Item:
    id: int
    fen: int
    price: Any  # the unit price as a DB parameter (see `_money`)


def prepare(ctx: DemoContext) -> BatchWriter:
    """Once per run: the catalogue (get-or-create) and the stages; then one batch at a time."""
    return Generator(ctx, ensure_catalogue(), _stages()).batch


def ensure_catalogue() -> list[list[Item]]:
    """The demo catalogue (get-or-create by SKU, so a second run reuses it), per category."""
    by_category = []
    for name, products in words.CATALOGUE.items():
        category = ProductCategory.objects.get_or_create(name=name)[0]
        items = []
        for sku, title, fen in products:
            product = Product.objects.get_or_create(sku=sku, defaults={
                "name": title, "category": category, "unit_price": Decimal(fen) / 100})[0]
            fen = int(product.unit_price * 100)
            items.append(Item(product.pk, fen, _money()(fen)))
        by_category.append(items)
    return by_category


def _stages() -> list[Stage]:
    """The default pipeline's stages; the standard pipeline is put back if it was removed."""
    stages = list(Stage.objects.filter(pipeline__is_default=True).order_by("position"))
    if not stages:
        import importlib

        from django.apps import apps

        importlib.import_module("kehu.history.migrations.0002_default_pipeline") \
            .create_default_pipeline(apps, None)
        stages = list(Stage.objects.filter(pipeline__is_default=True).order_by("position"))
    return stages


class Table:
    """One prepared INSERT for a fixed list of columns; rows are tuples in that order."""

    def __init__(self, model: type[models.Model], columns: list[str]):
        quote = connection.ops.quote_name
        self.sql = (f"INSERT INTO {quote(model._meta.db_table)} "
                    f"({', '.join(quote(model._meta.get_field(c).column) for c in columns)}) "
                    f"VALUES ({', '.join(['%s'] * len(columns))})")
        self.rows: list[tuple] = []

    def flush(self, cursor) -> int:
        count = len(self.rows)
        if count:
            cursor.executemany(self.sql, self.rows)
            self.rows = []
        return count


RECORD = ["customer", "created_at", "updated_at", "created_by", "origin", "version"]


def _tables() -> dict[str, Table]:
    return {
        "order": Table(Order, ["id", *RECORD, "number", "external_number", "ordered_on", "status",
                               "currency", "total", "notes"]),
        "line": Table(OrderLine, ["order", "product", "quantity", "unit_price", "discount", "amount"]),
        "communication": Table(Communication, [*RECORD, "contact", "channel", "direction",
                                               "occurred_at", "subject", "content", "outcome",
                                               "next_step", "next_follow_up"]),
        "opportunity": Table(Opportunity, ["id", *RECORD, "title", "kind", "amount", "currency",
                                           "expected_close", "pipeline", "stage", "owner",
                                           "status", "close_reason", "closed_at"]),
        "opp_product": Table(OppProducts, ["opportunity", "product"]),
        "need": Table(Need, [*RECORD, "content", "status"]),
        "preference": Table(Preference, [*RECORD, "preferred_channel", "preferred_contact_time",
                                         "budget_min", "budget_max", "currency", "pain_points"]),
        "survey": Table(Survey, [*RECORD, "contact", "kind", "score", "comment", "channel",
                                 "answered_on"]),
        "ticket": Table(Ticket, [*RECORD, "kind", "subject", "content", "status", "handler",
                                 "resolution", "opened_at", "resolved_at"]),
    }


def _adapters():
    """(datetime, date) → DB parameter, cheaper than the generic path for millions of rows."""
    if connection.vendor == "sqlite":
        return (lambda v: None if v is None else str(v.astimezone(dt.UTC).replace(tzinfo=None)),
                lambda v: None if v is None else v.isoformat())
    if connection.vendor == "postgresql":
        return (lambda v: v), (lambda v: v)
    return connection.ops.adapt_datetimefield_value, connection.ops.adapt_datefield_value


def _money():
    """fen → DB parameter. SQLite keeps decimals in NUMERIC columns as REAL whatever is
    sent (Django sends str(Decimal)), so a float stores the very same value, faster."""
    if connection.vendor == "sqlite":
        return lambda fen: fen / 100
    return lambda fen: Decimal(fen).scaleb(-2)


def _pick(table: tuple[tuple[float, str], ...], r: float) -> str:
    for bound, value in table:
        if r < bound:
            return value
    return table[-1][1]


_STATUSES = ((0.84, "paid"), (0.88, "confirmed"), (0.95, "cancelled"), (0.98, "refunded"),
             (1.0, "draft"))
_RECENT_STATUSES = ((0.15, "draft"), (0.65, "confirmed"), (1.0, "paid"))


@dataclass
class Buyer:
    id: int
    owner: int
    created: dt.datetime
    contact: int | None


@dataclass
class Generator:
    """Writes the history of one batch of customers at a time (`batch`); the rest is setup."""

    ctx: DemoContext
    catalogue: list[list[Item]]
    stages: list[Stage]

    def __post_init__(self) -> None:
        self.now = self.ctx.now
        self.today = self.now.astimezone(SHANGHAI).date()
        self.first_day = self.today - dt.timedelta(days=365 * YEARS)
        self.days, self.day_cum = _day_weights(self.first_day, self.today)
        self.adapt_dt, self.adapt_date = _adapters()
        self.money = _money()
        self.sqlite = connection.vendor == "sqlite"
        self.day_info = [
            (self.adapt_date(d), f"SO{d:%Y%m%d}", d.month in words.GIFT_MONTHS,
             (self.today - d).days < 14, d.isoformat()) for d in self.days]
        self.gift = next(i for i, name in enumerate(words.CATALOGUE) if name == "商务礼品")

    def batch(self, batch: Batch) -> None:
        """The history of the customers in `batch`, in the caller's (the batch's) transaction."""
        self.rng, self.tables = batch.rng_for("history"), _tables()
        self.next_order, self.next_opportunity = next_id(Order), next_id(Opportunity)
        for customer in self._customers(batch.ids):
            self.history_of(customer)
        orders = len(self.tables["order"].rows)
        with connection.cursor() as cursor:
            rows = sum(table.flush(cursor) for table in self.tables.values())
        sequence_past(Order, self.next_order - 1)
        sequence_past(Opportunity, self.next_opportunity - 1)
        self.ctx.tally("个订单", orders)
        self.ctx.tally("行历史记录", rows)

    def _customers(self, ids: range) -> list[Buyer]:
        contacts = dict(Contact.objects.filter(
            customer_id__gte=ids.start, customer_id__lt=ids.stop, is_primary=True,
        ).values_list("customer_id", "pk"))
        rows = Customer.objects.filter(pk__gte=ids.start, pk__lt=ids.stop, deleted_at__isnull=True)
        return [Buyer(pk, owner, created, contacts.get(pk)) for pk, owner, created in
                rows.order_by("pk").values_list("pk", "owner_id", "created_at")]

    def history_of(self, customer: Buyer) -> None:
        rng = self.rng
        self.orders(customer)
        self.communications(customer)
        if rng.random() < 0.35:
            for _ in range(1 if rng.random() < 0.85 else 2):
                self.opportunity(customer)
        if rng.random() < 0.12:
            self.need(customer)
        if rng.random() < 0.2:
            self.preference(customer)
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                self.survey(customer)
        if rng.random() < 0.05:
            self.ticket(customer)

    # --- helpers shared by the record kinds ---------------------------------------

    def record(self, customer: Buyer, at: dt.datetime) -> tuple:
        stamp = self.adapt_dt(at)
        return (customer.id, stamp, stamp, customer.owner, "demo", 1)

    def moment_after(self, start: dt.datetime, *, days: int | None = None) -> dt.datetime:
        """A working-hours moment between `start` (or `days` before now) and now."""
        earliest = max(start, self.now - dt.timedelta(days=days)) if days else start
        span = max(int((self.now - earliest).total_seconds()), 3600)
        moment = earliest + dt.timedelta(seconds=self.rng.randrange(span))
        local = moment.astimezone(SHANGHAI)
        local = local.replace(hour=self.rng.randint(9, 17), minute=self.rng.randrange(60))
        return min(local, self.now - dt.timedelta(minutes=self.rng.randint(1, 600)))

    def day_after(self, created: dt.datetime) -> int:
        """The index in self.days of a seasonal order day between the customer's creation and today."""
        low = bisect.bisect_left(self.days, created.astimezone(SHANGHAI).date())
        if low >= len(self.days):
            return len(self.days) - 1
        base = self.day_cum[low - 1] if low else 0.0
        point = base + self.rng.random() * (self.day_cum[-1] - base)
        return min(bisect.bisect_left(self.day_cum, point), len(self.days) - 1)

    def order_stamp(self, day: int, utc_day: str, utc_hour: int, minute: int) -> Any:
        """created_at of an order placed at 09:00–20:59 Shanghai time (01–12 UTC, same day)."""
        if self.sqlite:
            return f"{utc_day} {utc_hour:02d}:{minute:02d}:00"
        return dt.datetime.combine(self.days[day], dt.time(utc_hour, minute), dt.UTC)

    # --- orders ----------------------------------------------------------------------

    def orders(self, customer: Buyer) -> None:
        rng = self.rng
        heavy = rng.random() < HEAVY_SHARE
        count = int(rng.expovariate(1 / (HEAVY_MEAN if heavy else LIGHT_MEAN)) + (1 if heavy else 0.4))
        favourite = int(rng.random() * len(self.catalogue))
        for _ in range(min(count, 400)):
            self.order(customer, self.day_after(customer.created), favourite, heavy)

    def order(self, customer: Buyer, day: int, favourite: int, heavy: bool) -> None:
        """One order and its 1–3 lines; the hot loop of the step, hence the plain arithmetic."""
        random, money = self.rng.random, self.money
        order_id = self.next_order
        self.next_order += 1
        date_param, prefix, gift_month, recent, utc_day = self.day_info[day]
        lines, total = self.tables["line"].rows, 0
        count = 1 if (r := random()) < 0.55 else 2 if r < 0.85 else 3
        for _ in range(count):
            item = self.pick_item(favourite, gift_month)
            quantity = 1 if item.fen >= 1_000_000 else 1 + int(random() * (20 if heavy else 5))
            discount = (item.fen * quantity // 2000) * 100 if random() < 0.2 else 0  # ≈5%, whole yuan
            amount = item.fen * quantity - discount
            total += amount
            lines.append((order_id, item.id, quantity, item.price, money(discount), money(amount)))
        r = random()
        status = _pick(_RECENT_STATUSES if recent else _STATUSES, r)
        stamp = self.order_stamp(day, utc_day, 1 + int(random() * 12), int(random() * 60))
        external = f"TB{order_id:012d}" if random() < 0.25 else None
        self.tables["order"].rows.append((
            order_id, customer.id, stamp, stamp, customer.owner, "demo", 1,
            f"{prefix}{order_id:09d}", external, date_param, status, "CNY", money(total), ""))

    def pick_item(self, favourite: int, gift_month: bool) -> Item:
        random = self.rng.random
        if gift_month and random() < 0.3:
            items = self.catalogue[self.gift]
        elif random() < 0.65:
            items = self.catalogue[favourite]
        else:
            items = self.catalogue[int(random() * len(self.catalogue))]
        return items[int(random() * len(items))]

    # --- communications, opportunities, needs, preferences, surveys, tickets ------------

    def communications(self, customer: Buyer) -> None:
        rng = self.rng
        count = min(1 + int(rng.expovariate(1 / 2.5)), 30)
        moments = sorted(self.moment_after(customer.created) for _ in range(count))
        for index, at in enumerate(moments):
            channel, subject, content, outcome, next_step = rng.choice(words.COMMUNICATIONS)
            follow_up = None
            if index == count - 1 and rng.random() < 0.3:
                follow_up = self.today + dt.timedelta(days=rng.randint(-7, 21))
            self.tables["communication"].rows.append((
                *self.record(customer, at), customer.contact, channel,
                "inbound" if rng.random() < 0.25 else "outbound", self.adapt_dt(at), subject,
                content, outcome, next_step, self.adapt_date(follow_up)))

    def opportunity(self, customer: Buyer) -> None:
        rng, opp_id = self.rng, self.next_opportunity
        self.next_opportunity += 1
        stage = rng.choices(self.stages, weights=_STAGE_WEIGHTS[:len(self.stages)])[0]
        kind, title = rng.choice(words.OPPORTUNITIES)
        created = self.moment_after(customer.created, days=400)
        closed, reason = None, ""
        if stage.kind != "open":
            closed = min(created + dt.timedelta(days=rng.randint(10, 90)), self.now)
            reason = rng.choice(words.WON_REASONS if stage.kind == "won" else words.LOST_REASONS)
        self.tables["opportunity"].rows.append((
            opp_id, *self.record(customer, created), title, kind,
            self.money(rng.randrange(50, 5000) * 10_000), "CNY",
            self.adapt_date(created.date() + dt.timedelta(days=rng.randint(30, 120))),
            stage.pipeline_id, stage.pk, customer.owner, stage.kind, reason, self.adapt_dt(closed)))
        item = rng.choice(rng.choice(self.catalogue))
        self.tables["opp_product"].rows.append((opp_id, item.id))

    def need(self, customer: Buyer) -> None:
        at = self.moment_after(customer.created)
        status = self.rng.choices(("open", "in_progress", "met", "dropped"), weights=(4, 3, 2, 1))[0]
        self.tables["need"].rows.append((*self.record(customer, at), self.rng.choice(words.NEEDS),
                                         status))

    def preference(self, customer: Buyer) -> None:
        rng = self.rng
        low = rng.choice((5_000, 10_000, 20_000, 50_000, 100_000))
        self.tables["preference"].rows.append((
            *self.record(customer, self.moment_after(customer.created)),
            rng.choice(("phone", "wechat", "visit", "email")),
            rng.choice(("morning", "afternoon", "any")), self.money(low * 100), self.money(low * 300), "CNY",
            rng.choice(words.PAIN_POINTS)))

    def survey(self, customer: Buyer) -> None:
        rng = self.rng
        at = self.moment_after(customer.created)
        if rng.random() < 0.6:
            kind, score = "csat", rng.choices((1, 2, 3, 4, 5), weights=(3, 5, 12, 40, 40))[0]
            mood = "good" if score >= 4 else "mid" if score == 3 else "bad"
        else:
            kind, score = "nps", rng.choices(range(11), weights=(1, 1, 1, 1, 2, 3, 5, 12, 20, 25, 29))[0]
            mood = "good" if score >= 9 else "mid" if score >= 7 else "bad"
        self.tables["survey"].rows.append((
            *self.record(customer, at), customer.contact, kind, score,
            rng.choice(words.SURVEY_COMMENTS[mood]), rng.choice(("phone", "wechat", "email")),
            self.adapt_date(at.date())))

    def ticket(self, customer: Buyer) -> None:
        rng = self.rng
        kind, subject, content = rng.choice(words.TICKETS)
        opened = self.moment_after(customer.created, days=700)
        done = rng.random() < 0.8 and opened < self.now - dt.timedelta(days=3)
        resolved = opened + dt.timedelta(hours=rng.randint(2, 96)) if done else None
        self.tables["ticket"].rows.append((
            *self.record(customer, opened), kind, subject, content,
            rng.choice(("resolved", "closed")) if done else rng.choice(("open", "in_progress")),
            customer.owner, rng.choice(words.RESOLUTIONS) if done else "",
            self.adapt_dt(opened), self.adapt_dt(resolved)))


# Default pipeline order: 初步接洽, 需求确认, 方案报价, 商务谈判, 赢单, 输单.
_STAGE_WEIGHTS = (16, 14, 12, 8, 30, 20)


def _day_weights(first: dt.date, last: dt.date) -> tuple[list[dt.date], list[float]]:
    """Every day of the period with cumulative weights: month season × weekday × slow growth."""
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    span = max(len(days) - 1, 1)
    weights = (words.MONTH_WEIGHTS[d.month] * (0.35 if d.weekday() >= 5 else 1.0)
               * (0.8 + 0.4 * n / span) for n, d in enumerate(days))
    return days, list(itertools.accumulate(weights))


history_step = Step("history", prepare, models=MODELS)


def register(steps: list[Step]) -> None:
    if history_step not in steps:
        steps.append(history_step)
