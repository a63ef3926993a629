from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "kehu.history"
    label = "history"
