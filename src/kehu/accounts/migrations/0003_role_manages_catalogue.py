from django.db import migrations, models


def managers_keep_the_catalogue(apps, schema_editor):
    # Until now the rule was written as `role.code == "manager"`; it becomes a permission.
    apps.get_model("accounts", "Role").objects.filter(code="manager").update(manages_catalogue=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_builtin_roles")]
    operations = [
        migrations.AddField(
            model_name="role",
            name="manages_catalogue",
            field=models.BooleanField(default=False, verbose_name="维护产品目录"),
        ),
        migrations.RunPython(managers_keep_the_catalogue, migrations.RunPython.noop),
    ]
