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
        # The customer list's 分类 and RFM columns (RFM hidden until shown).
        from kehu.customers.list_columns import ListColumn, register_list_column

        register_list_column(ListColumn("classes", _("分类"), _class_cells, order=10))
        register_list_column(ListColumn("rfm", _("RFM"), _rfm_cells, order=20, hidden=True))
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


def _class_cells(ids: list[int]) -> dict:
    """The list's 分类 column: each customer's values as coloured chips, in dimension order."""
    from django.utils.translation import gettext as _

    from kehu.classification.models import CustomerClass
    from kehu.customers.list_columns import Cell

    cells: dict[int, list] = {}
    for row in (CustomerClass.objects.filter(customer_id__in=ids, dimension__is_active=True)
                .select_related("value", "dimension")
                .order_by("dimension__position", "dimension_id")):
        manual = _("（手动）") if row.manual else ""
        cells.setdefault(row.customer_id, []).append(
            Cell(row.value.label, row.value.color, f"{row.dimension.name}{manual}"))
    return cells


def _rfm_cells(ids: list[int]) -> dict:
    """The list's RFM column: the scores and the named segment."""
    from kehu.classification.figures import SEGMENT_LABELS
    from kehu.classification.models import CustomerFigures
    from kehu.customers.list_columns import Cell

    return {f.customer_id: [Cell(f"R{f.r} F{f.f} M{f.m}", title=str(SEGMENT_LABELS.get(f.segment, ""))),
                            Cell(" " + str(SEGMENT_LABELS.get(f.segment, "")))]
            for f in CustomerFigures.objects.filter(customer_id__in=ids, r__isnull=False)}
