"""A run's ledger is found by the index on (run, row): the run's own index was a second
copy, written with every ledger row (an import writes ~2 a row).

The AlterField is state only: on SQLite Django would rebuild the whole table to drop an
index (a copy of every row); the index goes by its name instead, on both databases."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "transfer_importrecord_run_id_549904bd"


class Migration(migrations.Migration):

    dependencies = [
        ("transfer", "0003_sealed_import_ledger"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{INDEX}"',
                                  f'CREATE INDEX "{INDEX}" ON "transfer_importrecord" ("run_id")'),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="importrecord",
                    name="run",
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="records", to="transfer.importrun"),
                ),
            ],
        ),
    ]
