from django.urls import path

from kehu.transfer import views
from kehu.transfer.export import views as export_views

app_name = "transfer"

urlpatterns: list = [
    path("import/template/<str:target>/", views.import_template, name="import_template"),
    path("export/customers/", export_views.customer_export, name="export_customers"),
]
