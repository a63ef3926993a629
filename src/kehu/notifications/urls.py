"""Notification pages: /notifications/…"""

from django.urls import path

from kehu.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell", views.bell, name="bell"),
    path("read-all", views.notification_read_all, name="read_all"),
    path("<int:pk>/read", views.notification_read, name="read"),
]
