"""The customers step: tags, customers, their contacts and tag links, in bulk."""

from __future__ import annotations

import time

from django.db import connection, transaction

from kehu.customers.models import Contact, Customer, Tag
from kehu.customers.services import tag_get_or_create
from kehu.demo import DemoContext
from kehu.demo.fake import Faker
from kehu.demo.load import RowWriter, fast_writes, indexes_set_aside, next_id, reset_sequences
from kehu.demo.words import TAGS

BATCH = 10_000
# Below this many rows, dropping and rebuilding indexes costs more than it saves.
SET_INDEXES_ASIDE_FROM = 50_000
TagLink = Customer.tags.through


def customers_step(ctx: DemoContext) -> None:
    """Insert ctx.customers customers (about 70% companies, each with 1–3 contacts)."""
    if ctx.customers <= 0 or not ctx.rep_ids:
        return
    tag_ids = [_tag(name, color) for name, color in TAGS]
    first = next_id(Customer)
    ctx.customer_ids = range(first, first + ctx.customers)
    faker = Faker(ctx.rng, now=ctx.now)
    writers = (RowWriter(Customer, with_id=True), RowWriter(Contact), RowWriter(TagLink))
    big = ctx.customers >= SET_INDEXES_ASIDE_FROM
    started = time.monotonic()
    with fast_writes(), indexes_set_aside(Customer, Contact, TagLink) if big else _nothing():
        for start in range(first, first + ctx.customers, BATCH):
            stop = min(start + BATCH, first + ctx.customers)
            _batch(ctx, faker, writers, tag_ids, range(start, stop))
            if big:
                ctx.say(f"  客户 {stop - first:,}/{ctx.customers:,}"
                        f"（{time.monotonic() - started:.0f} 秒）")
        if big:
            ctx.say("  正在重建索引 …")
    if connection.vendor == "postgresql":
        reset_sequences(Customer)
        with connection.cursor() as cursor:
            for model in (Customer, Contact, TagLink):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    ctx.say(f"已生成 {ctx.customers:,} 个演示客户")


@transaction.atomic
def _batch(ctx: DemoContext, faker: Faker, writers, tag_ids: list[int], ids: range) -> None:
    customer_writer, contact_writer, link_writer = writers
    customers, contacts, links = [], [], []
    for pk in ids:
        owner = ctx.rng.choice(ctx.rep_ids)
        row = faker.company(owner) if ctx.rng.random() < 0.7 else faker.person(owner)
        row["id"] = pk
        customers.append(row)
        if row["kind"] == "company":
            contacts.extend(faker.contacts(row, pk))
        links.extend({"customer_id": pk, "tag_id": t} for t in faker.tag_ids(tag_ids))
    customer_writer.write(customers)
    contact_writer.write(contacts)
    link_writer.write(links)


def _tag(name: str, color: str) -> int:
    tag = tag_get_or_create(name=name)
    if tag.color != color and tag.color == Tag._meta.get_field("color").default:
        Tag.objects.filter(pk=tag.pk).update(color=color)
    return tag.pk


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
