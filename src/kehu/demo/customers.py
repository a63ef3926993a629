"""The customers step: customers, their contacts and tag links, one batch at a time."""

from __future__ import annotations

from kehu.customers.keys import keys_refresh_range
from kehu.customers.models import Contact, Customer, Tag
from kehu.customers.searchindex import search_index_refresh_range
from kehu.customers.services import tag_get_or_create
from kehu.demo import Batch, BatchWriter, DemoContext, Step
from kehu.demo.fake import Faker, distinct_keys
from kehu.demo.load import RowWriter, sequence_past
from kehu.demo.words import TAGS

TagLink = Customer.tags.through


def prepare(ctx: DemoContext) -> BatchWriter:
    """Get or create the demo tags (idempotent) and return the batch writer."""
    tag_ids = [_tag(name, color) for name, color in TAGS]
    writers = (RowWriter(Customer, with_id=True), RowWriter(Contact), RowWriter(TagLink))

    def write(batch: Batch) -> None:
        _batch(ctx, Faker(batch.rng_for("customers"), now=ctx.now), writers, tag_ids, batch.ids)

    return write


def _batch(ctx: DemoContext, faker: Faker, writers, tag_ids: list[int], ids: range) -> None:
    """About 70% companies, each with 1–3 contacts; a quarter of the customers tagged."""
    customer_writer, contact_writer, link_writer = writers
    rng = faker.rng
    customers, contacts, links = [], [], []
    for pk in ids:
        owner = rng.choice(ctx.rep_ids)
        serial = pk - ctx.customer_ids.start
        row = faker.company(owner, serial) if rng.random() < 0.7 else faker.person(owner)
        row["id"] = pk
        customers.append(row)
        own = faker.contacts(row, pk) if row["kind"] == "company" else []
        distinct_keys(row, own, serial, ctx.seed)
        contacts.extend(own)
        links.extend({"customer_id": pk, "tag_id": t} for t in faker.tag_ids(tag_ids))
    customer_writer.write(customers)
    contact_writer.write(contacts)
    link_writer.write(links)
    keys_refresh_range(ids.start, ids.stop - 1)
    search_index_refresh_range(ids.start, ids.stop - 1)
    sequence_past(Customer, ids.stop - 1)


def _tag(name: str, color: str) -> int:
    tag = tag_get_or_create(name=name)
    if tag.color != color and tag.color == Tag._meta.get_field("color").default:
        Tag.objects.filter(pk=tag.pk).update(color=color)
    return tag.pk


customers_step = Step("customers", prepare, models=(Customer, Contact, TagLink))
