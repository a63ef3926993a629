"""PostgreSQL's gram index keeps each customer's `updated_at` beside its grams, so that a
ranked quick search reads its candidates newest first from the index's own rows instead of
visiting every candidate's customer row (customers/ranking.py, `_by_recency`).

Kept by two triggers, whatever writes: a customer's new `updated_at` is copied to its grams
row, and a grams row inserted without one (the index's writer, `kehu migrate-db`'s COPY)
takes the customer's. The fill factor leaves room in each page so that the copy is a HOT
update, which does not touch the GIN index. SQLite's FTS5 index is unchanged: its walk
within the candidates (search.InCandidates) already serves the same terms there.

Safe on a live database: the column and the triggers come first (each a moment's lock),
then the existing rows are stamped in windows of ids, each its own transaction, so no
customer write waits on the backfill (one transaction over 1,000,000 rows held their grams
rows for 4-15 minutes on the bench machine). A row the backfill has not reached yet has no
stamp: until it does, ranked search may list it after the stamped ones, or leave it off a
later page (the cursor compares its real updated_at); it is never listed twice.
"""

from django.db import migrations, transaction

from kehu.core.migrating import on_postgresql

WINDOW = 20_000

PG_FORWARD = [
    "ALTER TABLE customers_searchgrams ADD COLUMN IF NOT EXISTS updated_at timestamptz",
    "ALTER TABLE customers_searchgrams SET (fillfactor = 90)",
    """CREATE OR REPLACE FUNCTION customers_searchgrams_stamp() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE customers_searchgrams SET updated_at = NEW.updated_at
          WHERE customer_id = NEW.id;
         RETURN NULL;
       END $$""",
    "DROP TRIGGER IF EXISTS customers_searchgrams_stamp ON customers_customer",
    "CREATE TRIGGER customers_searchgrams_stamp AFTER UPDATE OF updated_at"
    " ON customers_customer FOR EACH ROW"
    " WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at)"
    " EXECUTE FUNCTION customers_searchgrams_stamp()",
    """CREATE OR REPLACE FUNCTION customers_searchgrams_fill() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.updated_at IS NULL THEN
           SELECT updated_at INTO NEW.updated_at FROM customers_customer
            WHERE id = NEW.customer_id;
         END IF;
         RETURN NEW;
       END $$""",
    "DROP TRIGGER IF EXISTS customers_searchgrams_fill ON customers_searchgrams",
    "CREATE TRIGGER customers_searchgrams_fill BEFORE INSERT ON customers_searchgrams"
    " FOR EACH ROW EXECUTE FUNCTION customers_searchgrams_fill()",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS customers_searchgrams_fill ON customers_searchgrams",
    "DROP FUNCTION IF EXISTS customers_searchgrams_fill()",
    "DROP TRIGGER IF EXISTS customers_searchgrams_stamp ON customers_customer",
    "DROP FUNCTION IF EXISTS customers_searchgrams_stamp()",
    "ALTER TABLE customers_searchgrams RESET (fillfactor)",
    "ALTER TABLE customers_searchgrams DROP COLUMN IF EXISTS updated_at",
]


def stamp(apps, schema_editor):
    """Each existing row's updated_at, WINDOW ids at a time (idempotent: a rerun after an
    interruption stamps only what is left)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(customer_id), 0) FROM customers_searchgrams")
        last = cursor.fetchone()[0]
        for first in range(1, last + 1, WINDOW):
            with transaction.atomic():
                cursor.execute(
                    "UPDATE customers_searchgrams g SET updated_at = c.updated_at"
                    " FROM customers_customer c WHERE c.id = g.customer_id"
                    " AND g.customer_id BETWEEN %s AND %s"
                    " AND g.updated_at IS DISTINCT FROM c.updated_at",
                    [first, first + WINDOW - 1])


class Migration(migrations.Migration):
    atomic = False  # see above: each step and each window is a transaction of its own
    dependencies = [("customers", "0017_owner_statistics")]
    operations = [on_postgresql(PG_FORWARD, PG_BACKWARD),
                  migrations.RunPython(stamp, migrations.RunPython.noop)]
