"""A customer's keys are found by the unique (customer, kind, value): the customer's own
index was a second copy, written with every key (an import writes ~2 a row).

The AlterField is state only: on SQLite Django would rebuild the whole table to drop an
index (a copy of every row); the index goes by its name instead, on both databases."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "customers_customerkey_customer_id_4b859656"


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0018_search_grams_recency"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{INDEX}"',
                                  f'CREATE INDEX "{INDEX}" ON "customers_customerkey" ("customer_id")'),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="customerkey",
                    name="customer",
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="keys", to="customers.customer"),
                ),
            ],
        ),
    ]
