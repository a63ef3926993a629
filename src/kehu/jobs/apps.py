from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "kehu.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Every app's jobs.py registers its job kinds; the worker and the web must agree on them.
        autodiscover_modules("jobs")

        from django.utils.translation import gettext_lazy as _

        from kehu.core.settings_menu import register_settings_section

        register_settings_section("schedules", _("计划任务"), "jobs:schedules", order=90,
                                  description=_("按时间表自动运行的后台任务"))

