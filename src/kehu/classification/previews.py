"""A rule's preview: what saving it would change, before it is saved, within the viewer's
sight. The draft takes its place among the dimension's active rules — or its tag's — (replacing
the rule it edits), the same engine counts the changes, and a few example customers are
named."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.classification import engine
from kehu.classification.models import DimensionValue, Rule
from kehu.classification.services import rule_clean
from kehu.classification.tagging import tag_preview, tag_rules
from kehu.customers.models import Customer, Tag

DRAFT = -1  # the draft's id in the decision: no saved rule has it


def rules_with(draft: Rule, replaces: int | None, rules: list[Rule]) -> list[Rule]:
    """The rules `draft` joins (its dimension's, or its tag's) as they would be once it is
    saved. A new rule sorts after the existing ones of its priority, as its new id will."""
    rules = [r for r in rules if r.pk != replaces]
    if draft.is_active:
        rules.append(draft)
    return sorted(rules, key=lambda r: (r.priority, r.pk if r.pk != DRAFT else replaces or 2**62))


def rule_preview(*, viewer: User, data: dict[str, Any]) -> dict[str, Any]:
    """Counts per change (from → to), unchanged and manual customers, and examples."""
    clean = rule_clean(data)
    replaces = data.get("rule")
    if replaces is not None:
        replaces = get_object_or_404(Rule, pk=replaces).pk
    tag_name = clean.pop("tag_name")
    draft = Rule(**clean)
    draft.pk = DRAFT
    if tag_name:
        return _tag_preview(viewer, draft, tag_name, replaces)
    dimension = draft.value.dimension
    rules = rules_with(draft, replaces, engine.active_rules(dimension))
    plan = engine.preview(viewer=viewer, dimension=dimension, rules=rules, actor=None)
    values = DimensionValue.objects.filter(dimension=dimension)
    labels = {v.pk: v.label for v in values}
    return _answer(dimension.key, plan, labels, {v.pk: v.color for v in values})


def _tag_preview(viewer: User, draft: Rule, tag_name: str, replaces: int | None) -> dict[str, Any]:
    # A tag not created yet has no customers: id 0 matches no row.
    tag = Tag.objects.filter(name=tag_name).first() or Tag(pk=0, name=tag_name)
    draft.tag = tag
    rules = rules_with(draft, replaces, tag_rules().get(tag.pk, []))
    plan = tag_preview(viewer=viewer, tag_id=tag.pk, rules=rules)
    without, with_ = _("无标签“%(t)s”") % {"t": tag.name}, _("有标签“%(t)s”") % {"t": tag.name}
    return _answer(f"tag:{tag.name}", plan, {False: without, True: with_})


def _answer(target: str, plan: engine.Plan, labels: dict[Any, str],
            colors: dict[Any, str] | None = None) -> dict[str, Any]:
    colors = colors or {}
    names = dict(Customer.objects.filter(pk__in={pk for ids in plan.examples.values()
                                                 for pk in ids}).values_list("pk", "name"))
    changes = sorted(plan.changes.items(), key=lambda item: -item[1])
    return {"dimension": target, "changed": plan.changed, "unchanged": plan.unchanged,
            "manual": plan.manual,
            "changes": [{"from_value": labels.get(before), "to_value": labels.get(after),
                         "from_color": colors.get(before), "to_color": colors.get(after),
                         "customers": n,
                         "examples": [{"id": pk, "name": names.get(pk, "")}
                                      for pk in plan.examples.get((before, after), [])]}
                        for (before, after), n in changes]}
