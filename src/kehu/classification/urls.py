"""Classification pages: the card's override, the RFM grid, and the settings area's screens
(设置 → 客户分类, admins: dimensions, values, rules, and the tag rules under dimensions/tags/),
all under dimensions/ so the settings menu lights up."""

from django.urls import path

from kehu.classification import rule_views as r
from kehu.classification import settings_views as s
from kehu.classification import views

app_name = "classification"

urlpatterns = [
    path("customers/<int:customer_id>/dimensions/<int:dimension_id>/", views.override,
         name="override"),
    path("rfm/", views.rfm_grid, name="rfm"),
    path("dimensions/", s.dimension_list, name="dimensions"),
    path("dimensions/<int:pk>/", s.dimension_detail, name="dimension"),
    path("dimensions/<int:pk>/move/", s.dimension_move, name="dimension_move"),
    path("dimensions/<int:pk>/active/", s.dimension_active, name="dimension_active"),
    path("dimensions/<int:pk>/values/", s.value_create, name="value_create"),
    path("dimensions/values/<int:pk>/", s.value_edit, name="value_edit"),
    path("dimensions/values/<int:pk>/move/", s.value_move, name="value_move"),
    path("dimensions/values/<int:pk>/active/", s.value_active, name="value_active"),
    path("dimensions/values/<int:pk>/delete/", s.value_delete, name="value_delete"),
    path("dimensions/<int:pk>/rules/new/", r.rule_create, name="rule_create"),
    path("dimensions/tags/", r.tag_rules, name="tag_rules"),
    path("dimensions/tags/rules/new/", r.tag_rule_create, name="tag_rule_create"),
    path("dimensions/rules/<int:pk>/", r.rule_edit, name="rule_edit"),
    path("dimensions/rules/<int:pk>/move/", r.rule_move, name="rule_move"),
    path("dimensions/rules/<int:pk>/delete/", r.rule_delete, name="rule_delete"),
    path("dimensions/rules/preview/", r.rule_preview_partial, name="rule_preview"),
]
