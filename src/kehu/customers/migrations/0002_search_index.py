"""The trigram index behind quick search (see kehu/customers/search.py)."""

from django.db import migrations

SQLITE_COLUMNS = "name, short_name, name_pinyin, name_initials, phones, emails"
SQLITE_NEW = "new.name, new.short_name, new.name_pinyin, new.name_initials, new.phones, new.emails"
SQLITE_OLD = "old.name, old.short_name, old.name_pinyin, old.name_initials, old.phones, old.emails"

SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE customers_search USING fts5({SQLITE_COLUMNS}, "
    "content='customers_customer', content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER customers_search_ai AFTER INSERT ON customers_customer BEGIN
        INSERT INTO customers_search(rowid, {SQLITE_COLUMNS}) VALUES (new.id, {SQLITE_NEW});
    END""",
    f"""CREATE TRIGGER customers_search_ad AFTER DELETE ON customers_customer BEGIN
        INSERT INTO customers_search(customers_search, rowid, {SQLITE_COLUMNS})
        VALUES ('delete', old.id, {SQLITE_OLD});
    END""",
    f"""CREATE TRIGGER customers_search_au AFTER UPDATE OF {SQLITE_COLUMNS}
        ON customers_customer BEGIN
        INSERT INTO customers_search(customers_search, rowid, {SQLITE_COLUMNS})
        VALUES ('delete', old.id, {SQLITE_OLD});
        INSERT INTO customers_search(rowid, {SQLITE_COLUMNS}) VALUES (new.id, {SQLITE_NEW});
    END""",
    "INSERT INTO customers_search(customers_search) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS customers_search_au",
    "DROP TRIGGER IF EXISTS customers_search_ad",
    "DROP TRIGGER IF EXISTS customers_search_ai",
    "DROP TABLE IF EXISTS customers_search",
]
PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX customers_search_trgm ON customers_customer USING gin ("
    "(UPPER(name || ' ' || short_name || ' ' || name_pinyin || ' ' || name_initials"
    " || ' ' || phones::text || ' ' || emails::text)) gin_trgm_ops)",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS customers_search_trgm"]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        )
    ]
