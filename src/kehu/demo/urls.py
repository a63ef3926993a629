from django.urls import path

from kehu.demo import views

app_name = "demo"

urlpatterns = [path("", views.start, name="start")]
