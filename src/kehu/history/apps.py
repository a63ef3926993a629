from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "kehu.history"
    label = "history"

    def ready(self) -> None:
        # The demo generator runs every registered step; history adds three years of it.
        from kehu.demo import STEPS
        from kehu.history.demo import register

        register(STEPS)
        # 离职交接: the leaver's open deals on the customers handed over go with them.
        from kehu.customers.signals import handed_over
        from kehu.history.opportunities import opportunities_hand_over

        handed_over.connect(opportunities_hand_over, dispatch_uid="history.handover")

        # The history's figures as fields of the one filter definition (customers.conditions).
        from kehu.history.conditions import register as register_conditions

        register_conditions()

        # The history panel on the customer card (summary figures, quick log, timeline).
        from django.utils.translation import gettext_lazy as _

        from kehu.core.cards import CardPanel, register_card_panel
        from kehu.history.views import history_panel_context

        register_card_panel(CardPanel(key="history", title=_("客户历史"),
                                      template="history/panels/history.html",
                                      context=history_panel_context, order=20))

        # Pipelines, their stages and win probabilities in the settings area (设置).
        from kehu.core.settings_menu import register_settings_section

        register_settings_section("pipelines", _("销售流程"), "history:pipelines", order=30,
                                  permission="manages_catalogue",
                                  description=_("商机看板的流程、阶段和赢率"))
