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
        from kehu.privacy import conditions, holdings
        from kehu.privacy.views import panel_context

        conditions.register()
        holdings.register_builtin()
        register_card_panel(CardPanel(key="consent", title=_("同意记录"),
                                      template="privacy/panels/consents.html",
                                      context=panel_context, order=25))
