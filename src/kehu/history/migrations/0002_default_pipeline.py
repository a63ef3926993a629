from django.db import migrations

STAGES = [
    # name, win probability %, kind
    ("初步接洽", 10, "open"),
    ("需求确认", 25, "open"),
    ("方案报价", 50, "open"),
    ("商务谈判", 75, "open"),
    ("赢单", 100, "won"),
    ("输单", 0, "lost"),
]


def create_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("history", "Pipeline")
    Stage = apps.get_model("history", "Stage")
    pipeline, _ = Pipeline.objects.get_or_create(name="标准销售流程", defaults={"is_default": True})
    for position, (name, probability, kind) in enumerate(STAGES):
        Stage.objects.get_or_create(
            pipeline=pipeline, name=name,
            defaults={"position": position, "probability": probability, "kind": kind},
        )


class Migration(migrations.Migration):
    dependencies = [("history", "0001_initial")]
    operations = [migrations.RunPython(create_default_pipeline, migrations.RunPython.noop)]
