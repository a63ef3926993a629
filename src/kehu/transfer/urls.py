from django.urls import path

from kehu.transfer import views

app_name = "transfer"

urlpatterns: list = [
    path("import/template/<str:target>/", views.import_template, name="import_template"),
]
