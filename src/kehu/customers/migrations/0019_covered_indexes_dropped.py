"""A customer's keys are found by the unique (customer, kind, value): the customer's own
index was a second copy, written with every key (an import writes ~2 a row)."""

import django.db.models.deletion
from django.db import migrations, models

from kehu.core.migrating import index_dropped


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0018_search_grams_recency"),
    ]

    operations = [
        index_dropped("customers_customerkey_customer_id_4b859656", "customers_customerkey", "customer_id", migrations.AlterField(
            model_name="customerkey",
            name="customer",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="keys", to="customers.customer"),
        )),
    ]
