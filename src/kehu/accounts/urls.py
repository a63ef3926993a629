"""Account pages: the per-user language switch, my API tokens, my sessions, my password,
two-factor sign-in."""

from django.urls import path

from kehu.accounts import account_views, two_factor_views, views

app_name = "accounts"

urlpatterns = [
    path("language/", views.language, name="language"),
    path("tokens/", account_views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("password/", account_views.password, name="password"),
    path("sessions/", account_views.sessions, name="sessions"),
    path("sessions/<int:pk>/end/", account_views.session_end, name="session_end"),
    path("sessions/end-others/", account_views.sessions_end_others, name="sessions_end_others"),
    path("two-factor/", two_factor_views.two_factor, name="two_factor"),
    path("two-factor/enrol/", two_factor_views.enrol, name="two_factor_enrol"),
    path("two-factor/recovery-codes/", two_factor_views.recovery_codes, name="two_factor_recovery"),
    path("two-factor/disable/", two_factor_views.disable, name="two_factor_disable"),
]
