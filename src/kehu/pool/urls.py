from django.urls import path

from kehu.pool import settings_views, views

app_name = "pool"

urlpatterns = [
    path("", views.pool_list, name="list"),
    path("customers/<int:customer_id>/claim/", views.claim, name="claim"),
    path("customers/<int:customer_id>/assign/", views.assign, name="assign"),
    path("customers/<int:customer_id>/release/", views.release, name="release"),
    path("settings/", settings_views.pools, name="settings"),
    path("settings/new/", settings_views.pool_edit, name="pool_create"),
    path("settings/<int:pool_id>/", settings_views.pool_edit, name="pool_edit"),
    path("settings/<int:pool_id>/delete/", settings_views.pool_delete, name="pool_delete"),
    path("settings/<int:pool_id>/rules/new/", settings_views.rule_edit, name="rule_create"),
    path("settings/<int:pool_id>/rules/<int:rule_id>/", settings_views.rule_edit, name="rule_edit"),
    path("settings/<int:pool_id>/rules/<int:rule_id>/delete/", settings_views.rule_delete,
         name="rule_delete"),
]
