"""PostgreSQL's gram rows carry the day of their customer's `updated_at`, indexed, so that the
first page of a common term reads only the candidates of the newest days
(customers/searchindex.py, `newest_window`): the GIN bitmap is ANDed with the day
index's before any row is read. The grams' statistics list ten times as many grams (down to
0.16 % of the rows at a million, against 1.5 %), so that a term in 1 % of them (流有) is
known common without a probe.

A day, not the moment itself: the moment changes with every write to the customer, and an
index on it would make every such copy of it (migration 0018's trigger) a non-HOT update
that writes the row's ~70 GIN entries again; the day changes at most once a day.

A generated column, computed by PostgreSQL whatever writes the row (the index's writer, the
triggers, `kehu migrate-db`'s COPY). Adding it rewrites the table and rebuilds its indexes
under an exclusive lock: 1,000,000 customers took 131 s on the bench machine, during which
quick search and customer writes wait. SQLite is unchanged (its walk within the
candidates, search.InCandidates, serves these terms there).
"""

from django.db import migrations

from kehu.core.migrating import on_postgresql

# `extract(epoch …)` of a timestamptz does not depend on the time zone, but PostgreSQL
# marks `extract` stable as a whole; a generated column needs an immutable expression.
PG_FORWARD = [
    "CREATE OR REPLACE FUNCTION kehu_day(timestamptz) RETURNS integer LANGUAGE sql"
    " IMMUTABLE PARALLEL SAFE AS $$ SELECT floor(extract(epoch FROM $1) / 86400)::integer $$",
    "ALTER TABLE customers_searchgrams ADD COLUMN IF NOT EXISTS day integer"
    " GENERATED ALWAYS AS (kehu_day(updated_at)) STORED",
    "CREATE INDEX IF NOT EXISTS customers_searchgrams_day ON customers_searchgrams (day)",
    "ALTER TABLE customers_searchgrams ALTER COLUMN grams SET STATISTICS 1000",
]
PG_BACKWARD = [
    "ALTER TABLE customers_searchgrams ALTER COLUMN grams SET STATISTICS -1",
    "DROP INDEX IF EXISTS customers_searchgrams_day",
    "ALTER TABLE customers_searchgrams DROP COLUMN IF EXISTS day",
    "DROP FUNCTION IF EXISTS kehu_day(timestamptz)",
]


class Migration(migrations.Migration):
    dependencies = [("customers", "0019_covered_indexes_dropped")]
    operations = [on_postgresql(PG_FORWARD, PG_BACKWARD)]
