from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "kehu.history"
    label = "history"

    def ready(self) -> None:
        # The demo generator runs every registered step; history adds three years of it.
        from kehu.demo import STEPS
        from kehu.history.demo import register

        register(STEPS)
