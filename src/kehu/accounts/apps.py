from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kehu.accounts"
    label = "accounts"

    def ready(self) -> None:
        from kehu.accounts import sessions, twofactor

        sessions.connect()
        twofactor.connect()
