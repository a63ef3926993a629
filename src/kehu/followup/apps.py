from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "kehu.followup"
    label = "followup"
