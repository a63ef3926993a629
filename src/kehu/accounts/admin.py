"""Administration of people and permissions (Django's admin, for admins only).

Customer data is deliberately NOT registered here: it must go through the scoped
services and selectors, never through an unscoped generic editor.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import ApiToken, Department, Role, User


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "data_scope", "can_write", "masks_sensitive", "is_admin",
                    "requires_two_factor")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "path")
    readonly_fields = ("path",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "department", "manager", "is_active")
    list_filter = ("role", "department", "is_active")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Kehu"), {"fields": ("display_name", "role", "department", "manager", "language")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # tokens are created with `kehu token create`, which shows the secret once
