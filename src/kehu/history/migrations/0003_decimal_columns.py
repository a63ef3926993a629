"""Money and quantity columns read through `DecimalColumn`, which tolerates a stored value
wider than the column (see its docstring).

State only: the columns keep their type (numeric(max_digits, decimal_places)); only the
Python class that reads them changes, so no table is rebuilt.
"""

from django.db import migrations

import kehu.history.models

MONEY = {"decimal_places": 2, "max_digits": 14}

COLUMNS = [
    ("opportunity", "amount", {**MONEY, "default": 0, "verbose_name": "金额"}),
    ("order", "total", {**MONEY, "default": 0, "verbose_name": "金额"}),
    ("orderline", "amount", {**MONEY, "verbose_name": "金额"}),
    ("orderline", "discount", {**MONEY, "default": 0, "verbose_name": "折扣金额"}),
    ("orderline", "quantity", {"decimal_places": 3, "max_digits": 12, "verbose_name": "数量"}),
    ("orderline", "unit_price", {**MONEY, "verbose_name": "单价"}),
    ("preference", "budget_max", {**MONEY, "blank": True, "null": True, "verbose_name": "预算上限"}),
    ("preference", "budget_min", {**MONEY, "blank": True, "null": True, "verbose_name": "预算下限"}),
    ("product", "unit_price", {**MONEY, "verbose_name": "单价"}),
]


class Migration(migrations.Migration):

    dependencies = [
        ("history", "0002_default_pipeline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model, name=name,
                                      field=kehu.history.models.DecimalColumn(**options))
                for model, name, options in COLUMNS
            ],
            database_operations=[],
        ),
    ]
