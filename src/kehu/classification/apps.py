from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClassificationConfig(AppConfig):
    name = "kehu.classification"
    label = "classification"

    def ready(self) -> None:
        # Figures and dimension values as fields of the one filter definition.
        from kehu.classification.conditions import register as register_conditions

        register_conditions()
        # A customer's rules re-run after any write that touched them (debounced).
        from kehu.classification import triggers

        triggers.connect()
        # The card's panel, and the changes of tier or stage on its timeline.
        from kehu.classification.models import ClassChange
        from kehu.classification.views import panel_context
        from kehu.core.cards import CardPanel, register_card_panel
        from kehu.history.api.serializers import register_timeline_serializer
        from kehu.history.timeline import TimelineSource, register_timeline_kind

        register_card_panel(CardPanel(key="classification", title=_("客户分类"),
                                      template="classification/panels/classification.html",
                                      context=panel_context, order=10))
        register_timeline_kind("classification", TimelineSource(
            ClassChange, "at", False, ("dimension", "from_value", "to_value", "tag", "rule",
                                       "actor"),
            template="classification/timeline_entry.html"), _("分类"))
        register_timeline_serializer("classification", _change_dict)
        # Dimensions, their values and rules in the settings area (设置), before 销售流程.
        from kehu.core.settings_menu import register_settings_section

        register_settings_section("dimensions", _("客户分类"), "classification:dimensions",
                                  order=20, description=_("分类维度、它们的值，以及自动分类的规则"))
        # The rules run over the whole set once demo data (or a big import) is in.
        from kehu.jobs.signals import job_finished

        job_finished.connect(triggers.after_bulk_job, dispatch_uid="classification.after_bulk")


def _change_dict(change: object) -> dict:
    c = change
    return {"dimension": c.dimension.key if c.dimension else None,
            "from": c.from_value.key if c.from_value else None,
            "to": c.to_value.key if c.to_value else None,
            "tag": c.tag.name if c.tag else None, "tag_action": c.tag_action or None,
            "rule": c.rule_name or None, "manual": c.manual, "actor": c.actor_id,
            "figures": c.figures}
