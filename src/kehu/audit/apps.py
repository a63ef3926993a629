from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kehu.audit"
    label = "audit"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from kehu.audit import checks, receivers  # noqa: F401 -- registers checks and receivers
        from kehu.core.settings_menu import register_settings_section

        register_settings_section("audit", _("审计日志"), "audit:list", order=95,
                                  description=_("谁在何时查看、搜索、导出、修改了什么；防篡改"))
