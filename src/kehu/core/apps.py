from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"

    def ready(self) -> None:
        from kehu.core import checks  # noqa: F401 -- registers the encryption keys' checks
