"""Account pages: the per-user language switch, my API tokens, my sessions, my password."""

from django.urls import path

from kehu.accounts import account_views, views

app_name = "accounts"

urlpatterns = [
    path("language/", views.language, name="language"),
    path("tokens/", account_views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("password/", account_views.password, name="password"),
    path("sessions/", account_views.sessions, name="sessions"),
    path("sessions/<int:pk>/end/", account_views.session_end, name="session_end"),
    path("sessions/end-others/", account_views.sessions_end_others, name="sessions_end_others"),
]
