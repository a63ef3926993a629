from django.urls import path  # noqa: F401  (routes are added by the import and export pages)

app_name = "transfer"

urlpatterns: list = []
