"""Data quality's hooks, installed from CustomersConfig.ready: its condition fields, the
re-scoring after writes, its jobs, its settings section and its panel on the card."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def install() -> None:
    from kehu.core.cards import CardPanel, register_card_panel
    from kehu.core.settings_menu import register_settings_section
    from kehu.customers.quality import conditions, jobs, triggers  # noqa: F401 -- jobs register
    from kehu.customers.views.quality import panel_context
    from kehu.jobs.signals import job_finished

    conditions.register()
    triggers.connect()
    job_finished.connect(triggers.after_bulk_job, dispatch_uid="customers.quality.after_bulk")
    register_settings_section("quality", _("数据质量"), "customers:quality_settings", order=40,
                              description=_("完整度的字段权重，多久未更新算过期"))
    register_card_panel(CardPanel(key="quality", title=_("数据质量"),
                                  template="customers/panels/quality.html",
                                  context=panel_context, order=20))
