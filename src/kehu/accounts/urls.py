"""Account pages: the per-user language switch."""

from django.urls import path

from kehu.accounts import views

app_name = "accounts"

urlpatterns = [
    path("language/", views.language, name="language"),
]
