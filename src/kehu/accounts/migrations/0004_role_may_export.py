from django.db import migrations, models


def built_in_roles_export(apps, schema_editor):
    # Admin, manager and sales export their own scope; the analyst (company-wide, masked)
    # does not by default: one export would carry the whole customer base out.
    apps.get_model("accounts", "Role").objects.filter(
        code__in=["admin", "manager", "sales"]).update(may_export=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_role_manages_catalogue")]
    operations = [
        migrations.AddField(
            model_name="role",
            name="may_export",
            field=models.BooleanField(default=False, verbose_name="可导出"),
        ),
        migrations.RunPython(built_in_roles_export, migrations.RunPython.noop),
    ]
