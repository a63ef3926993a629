from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "kehu.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Every app's jobs.py registers its job kinds; the worker and the web must agree on them.
        autodiscover_modules("jobs")
