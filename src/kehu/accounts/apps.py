from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kehu.accounts"
    label = "accounts"

    def ready(self) -> None:
        from kehu.accounts import sessions, twofactor

        sessions.connect()
        twofactor.connect()
        from kehu.core.settings_menu import register_settings_section

        register_settings_section("team", _("成员与权限"), "team:users", order=5, description=_(
            "成员、部门、角色和数据范围；离职交接"))
