from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from kehu.accounts import signin
from kehu.config.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:list"), name="home"),
    path("", include("kehu.ops.urls")),  # /healthz, /readyz, /metrics: no login (kehu/ops)
    path("login/", signin.SignInView.as_view(), name="login"),
    path("login/code/", signin.verify_step, name="login_verify"),
    path("login/enrol/", signin.enrol_step, name="login_enrol"),
    # The admin signs in on the site's own page, so nobody skips the second step there.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("kehu.accounts.urls")),
    path("settings/team/handover/", include("kehu.customers.handover_urls")),
    path("settings/team/", include("kehu.accounts.team_urls")),
    path("settings/", include("kehu.accounts.settings_urls")),
    path("customers/", include("kehu.customers.urls")),
    path("history/", include("kehu.history.urls")),
    path("notifications/", include("kehu.notifications.urls")),
    path("jobs/", include("kehu.jobs.urls")),
    path("audit/", include("kehu.audit.urls")),
    path("transfer/", include("kehu.transfer.urls")),
    path("demo/", include("kehu.demo.urls")),
    path("classification/", include("kehu.classification.urls")),
    path("followup/", include("kehu.followup.urls")),
    path("pool/", include("kehu.pool.urls")),
    path("privacy/", include("kehu.privacy.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
