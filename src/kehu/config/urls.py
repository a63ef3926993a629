from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from kehu.config.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:list"), name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("kehu.accounts.urls")),
    path("settings/", include("kehu.accounts.settings_urls")),
    path("customers/", include("kehu.customers.urls")),
    path("history/", include("kehu.history.urls")),
    path("notifications/", include("kehu.notifications.urls")),
    path("jobs/", include("kehu.jobs.urls")),
    path("transfer/", include("kehu.transfer.urls")),
    path("demo/", include("kehu.demo.urls")),
    path("classification/", include("kehu.classification.urls")),
    path("followup/", include("kehu.followup.urls")),
    path("pool/", include("kehu.pool.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
