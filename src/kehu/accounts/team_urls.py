"""成员与权限 (设置 → 成员与权限, admins): people, departments, roles. The handover of a
leaving person's customers (离职交接) is the customers app's (`customers/handover_urls.py`),
mounted beside these."""

from django.urls import path

from kehu.accounts import org_views, team_views

app_name = "team"

urlpatterns = [
    path("", team_views.users, name="users"),
    path("users/new/", team_views.user_create, name="user_create"),
    path("users/<int:pk>/", team_views.user_edit, name="user_edit"),
    path("users/<int:pk>/deactivate/", team_views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", team_views.user_reactivate, name="user_reactivate"),
    path("users/<int:pk>/password/", team_views.user_password, name="user_password"),
    path("departments/", org_views.departments, name="departments"),
    path("departments/<int:pk>/", org_views.department_edit, name="department_edit"),
    path("departments/<int:pk>/delete/", org_views.department_delete, name="department_delete"),
    path("roles/", org_views.roles, name="roles"),
    path("roles/new/", org_views.role_edit, name="role_create"),
    path("roles/<int:pk>/", org_views.role_edit, name="role_edit"),
    path("roles/<int:pk>/delete/", org_views.role_delete, name="role_delete"),
]
