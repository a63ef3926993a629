from django.db import migrations


def install(apps, schema_editor):
    from kehu.classification.defaults import install_defaults

    install_defaults(apps.get_model("classification", "Dimension"),
                     apps.get_model("classification", "DimensionValue"),
                     apps.get_model("classification", "Rule"))


class Migration(migrations.Migration):
    dependencies = [("classification", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
