from django.urls import path

from kehu.transfer import views
from kehu.transfer.export import audit_log, subject_report
from kehu.transfer.export import views as export_views

app_name = "transfer"

urlpatterns: list = [
    path("import/", views.import_list, name="import_list"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/configure/", views.import_configure, name="import_configure"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:pk>/undo/", views.import_undo_view, name="import_undo"),
    path("import/<int:pk>/report/<str:phase>.<str:fmt>", views.import_report,
         name="import_report"),
    path("import/template/<str:target>/", views.import_template, name="import_template"),
    # The customer list's export: the customers, or their orders or communications.
    path("export/customers/", export_views.export, name="export_customers"),
    # 设置 → 审计日志's export (admins).
    path("export/audit/", audit_log.audit_export, name="audit_export"),
    path("export/subject-requests/<int:pk>/", subject_report.subject_report_download,
         name="subject_report"),
    path("export/orders/", export_views.export, {"target": "orders"}, name="export_orders"),
]
