"""PostgreSQL keeps exact statistics for up to 1,000 owners (the default, 100, lumps the rest).

With the default, PostgreSQL guessed a small team's 100 customers at 2,641 and walked the
list's index for them: 1.9 s for a first page at 1,000,000 customers (bench/org.py's
company), 0.46 ms once each owner's share is known; a rep's orders 1.8 s → 78 ms the same
way. SQLite has no such setting; its plans come from customers.scope_plans.
"""

from django.db import migrations

TARGET = 1000


def set_target(apps, schema_editor, target: int = TARGET) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("customers", "Customer")._meta.db_table
    schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "owner_id" SET STATISTICS {target}')


def reset_target(apps, schema_editor) -> None:
    set_target(apps, schema_editor, -1)


class Migration(migrations.Migration):
    dependencies = [("customers", "0016_list_indexes_carry_the_owner")]

    operations = [migrations.RunPython(set_target, reset_target, elidable=False)]
