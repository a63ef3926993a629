"""The gram index behind quick search (kehu/customers/searchindex.py), backfilled; the
trigram index of 0002 it replaces is dropped (its triggers cost every customer write)."""

from django.db import migrations, models

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS customers_search_au",
    "DROP TRIGGER IF EXISTS customers_search_ad",
    "DROP TRIGGER IF EXISTS customers_search_ai",
    "DROP TABLE IF EXISTS customers_search",
    "CREATE VIRTUAL TABLE customers_searchgrams USING fts5(grams, tokenize='unicode61',"
    " detail=none)",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS customers_searchgrams"]
PG_FORWARD = [
    "DROP INDEX IF EXISTS customers_search_trgm",
    # No foreign key: Django's flush truncates the tables it knows, and a row left by a
    # customer deleted for good is harmless (probe ids are joined with live customers).
    "CREATE TABLE customers_searchgrams (customer_id bigint PRIMARY KEY, grams text[] NOT NULL)",
    "CREATE INDEX customers_searchgrams_gin ON customers_searchgrams USING gin (grams)",
]
PG_BACKWARD = ["DROP TABLE IF EXISTS customers_searchgrams"]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


def backfill(apps, schema_editor):
    """Grams for existing customers, by windows of 1,000 ids (see searchindex.py)."""
    from kehu.customers.searchindex import search_index_refresh_range

    Customer = apps.get_model("customers", "Customer")
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if last:
        search_index_refresh_range(1, last)


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_customer_keys")]
    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["name_pinyin"], name="cust_pinyin"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
