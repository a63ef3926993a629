"""The settings area (设置): its front page. Its sections are each app's own routes
(registered in `core/settings_menu.py`)."""

from django.urls import path

from kehu.accounts import views

app_name = "settings"

urlpatterns = [
    path("", views.settings_index, name="index"),
]
