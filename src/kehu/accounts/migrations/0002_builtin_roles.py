from django.db import migrations

BUILTIN_ROLES = [
    # code, name, data scope, can write, masks sensitive, is admin
    ("admin", "管理员", "all", True, False, True),
    ("manager", "销售经理", "dept_tree", True, False, False),
    ("sales", "销售代表", "own", True, False, False),
    ("analyst", "数据分析", "all", False, True, False),
]


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, name, scope, can_write, masks, is_admin in BUILTIN_ROLES:
        Role.objects.update_or_create(
            code=code,
            defaults={"name": name, "data_scope": scope, "can_write": can_write,
                      "masks_sensitive": masks, "is_admin": is_admin},
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
