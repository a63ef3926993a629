"""A run's ledger is found by the index on (run, row): the run's own index was a second
copy, written with every ledger row (an import writes ~2 a row)."""

import django.db.models.deletion
from django.db import migrations, models

from kehu.core.migrating import index_dropped


class Migration(migrations.Migration):

    dependencies = [
        ("transfer", "0003_sealed_import_ledger"),
    ]

    operations = [
        index_dropped("transfer_importrecord_run_id_549904bd", "transfer_importrecord", "run_id", migrations.AlterField(
            model_name="importrecord",
            name="run",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="records", to="transfer.importrun"),
        )),
    ]
