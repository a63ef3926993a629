"""A rule's preview: what saving it would change, before it is saved, within the viewer's
sight. The draft takes its place among the dimension's active rules (replacing the rule it
edits), the same engine counts the changes, and a few example customers are named."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from kehu.accounts.models import User
from kehu.classification import engine
from kehu.classification.models import DimensionValue, Rule
from kehu.classification.services import rule_clean
from kehu.customers.models import Customer

DRAFT = -1  # the draft's id in the decision: no saved rule has it


def rules_with(draft: Rule, replaces: int | None) -> list[Rule]:
    """The dimension's active rules as they would be once the draft is saved. A new rule
    sorts after the existing ones of its priority, as its new id will."""
    rules = [r for r in engine.active_rules(draft.value.dimension) if r.pk != replaces]
    if draft.is_active:
        rules.append(draft)
    return sorted(rules, key=lambda r: (r.priority, r.pk if r.pk != DRAFT else replaces or 2**62))


def rule_preview(*, viewer: User, data: dict[str, Any]) -> dict[str, Any]:
    """Counts per change (from → to), unchanged and manual customers, and examples."""
    clean = rule_clean(data)
    replaces = data.get("rule")
    if replaces is not None:
        replaces = get_object_or_404(Rule, pk=replaces).pk
    draft = Rule(**clean)
    draft.pk = DRAFT
    dimension = draft.value.dimension
    plan = engine.preview(viewer=viewer, dimension=dimension,
                          rules=rules_with(draft, replaces), actor=None)
    labels = dict(DimensionValue.objects.filter(dimension=dimension).values_list("pk", "label"))
    names = dict(Customer.objects.filter(pk__in={pk for ids in plan.examples.values()
                                                 for pk in ids}).values_list("pk", "name"))
    changes = sorted(plan.changes.items(), key=lambda item: -item[1])
    return {"dimension": dimension.key, "changed": plan.changed, "unchanged": plan.unchanged,
            "manual": plan.manual,
            "changes": [{"from_value": labels.get(before), "to_value": labels.get(after),
                         "customers": n,
                         "examples": [{"id": pk, "name": names.get(pk, "")}
                                      for pk in plan.examples.get((before, after), [])]}
                        for (before, after), n in changes]}
