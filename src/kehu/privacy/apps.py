from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "kehu.privacy"
    label = "privacy"
    verbose_name = _("个人信息保护")

    def ready(self) -> None:
        # Consent states as fields of the one filter definition (lists, segments, rules,
        # exports), and the 同意记录 panel on the card.
        from kehu.core.cards import CardPanel, register_card_panel
        from kehu.core.settings_menu import register_settings_section
        from kehu.customers.sensitive import register_separate_consent
        from kehu.privacy import conditions, holdings, selectors
        from kehu.privacy.views import panel_context

        conditions.register()
        holdings.register_builtin()
        register_separate_consent(selectors.has_live_separate_consent)
        register_card_panel(CardPanel(key="consent", title=_("同意记录"),
                                      template="privacy/panels/consents.html",
                                      context=panel_context, order=25))
        register_settings_section("privacy_requests", _("个人信息权利请求"), "privacy:requests",
                                  order=96, description=_("查阅、复制、更正、删除：登记请求，找到本人的全部"
                                                          "信息，导出副本或匿名化删除"))
