"""离职交接 in 设置 → 成员与权限 (mounted under the team settings' address)."""

from django.urls import path

from kehu.customers.views import handover

app_name = "handover"

urlpatterns = [
    path("", handover.handover_page, name="start"),
]
