"""Account pages: the per-user language switch, my API tokens, my password."""

from django.urls import path

from kehu.accounts import account_views, views

app_name = "accounts"

urlpatterns = [
    path("language/", views.language, name="language"),
    path("tokens/", account_views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("password/", account_views.password, name="password"),
]
