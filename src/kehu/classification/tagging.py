"""Rules that add or remove a tag: one decision list per tag, like a dimension's.

The active rules naming a tag, lowest priority first, become one SQL CASE (the engine's
`decision`): the first that holds decides whether the customer should have the tag (add)
or not (remove). No rule holding leaves the tag as it is — a person's tag is never taken
away by a rule that does not speak about the customer. Only disagreements are read back
(the CASE and an EXISTS on the customer's tags, filtered in SQL), so a run over 1,000,000
customers fetches the changes, not the customers. Every change is a `ClassChange` with
the tag, the action, the rule and the figures it read, on the timeline with the others.

Tag rules run after the dimensions (a tag such as 流失预警 usually reads a dimension).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from kehu.classification import engine
from kehu.classification.models import ClassChange, Rule
from kehu.customers.conditions import condition_fields
from kehu.customers.models import Customer

TAGGED = Customer.tags.through


def tag_rules() -> dict[int, list[Rule]]:
    """The active tag rules, per tag id, each list in priority order."""
    grouped: dict[int, list[Rule]] = {}
    for rule in Rule.objects.filter(tag__isnull=False, is_active=True) \
            .select_related("tag").order_by("priority", "id"):
        grouped.setdefault(rule.tag_id, []).append(rule)
    return grouped


def _has_tag(tag_id: int) -> Exists:
    return Exists(TAGGED.objects.filter(customer_id=OuterRef("pk"), tag_id=tag_id))


def _disagreeing(customers: Any, tag_id: int, rules: list[Rule],
                 fields: dict | None = None) -> Any:
    """The customers whose tag the rules would change, annotated with the deciding rule."""
    adds = [r.pk for r in rules if r.tag_action == Rule.ADD]
    removes = [r.pk for r in rules if r.tag_action == Rule.REMOVE]
    decided = engine.decision(rules, actor=None, fields=fields)
    return (customers.annotate(rule_id=decided, has=_has_tag(tag_id))
            .filter(Q(rule_id__in=adds, has=False) | Q(rule_id__in=removes, has=True)))


def disagreements(customers: Any, tag_id: int, rules: list[Rule],
                  fields: dict | None = None) -> Any:
    """(customer id, deciding rule id) for the customers whose tag the rules would change."""
    return _disagreeing(customers, tag_id, rules, fields).values_list("pk", "rule_id")


def apply_tags(*, ids: Iterable[int] | None = None, first: int | None = None,
               last: int | None = None, rules: dict[int, list[Rule]] | None = None,
               fields: dict | None = None) -> Counter:
    """Add and remove the tags the rules decide for `ids` (or first <= id < last); the
    caller holds the transaction. Returns counts per (tag name, action). `fields`: the
    caller's `condition_fields()`, read once for many calls."""
    customers = engine.customers_seen_by(None)
    if ids is not None:
        customers = customers.filter(pk__in=list(ids))
    if first is not None:
        customers = customers.filter(pk__gte=first)
    if last is not None:
        customers = customers.filter(pk__lt=last)
    counts: Counter = Counter()
    for tag_id, tag_rules_ in (tag_rules() if rules is None else rules).items():
        by_id = {rule.pk: rule for rule in tag_rules_}
        changes = [(pk, by_id[rule_id]) for pk, rule_id in disagreements(customers, tag_id,
                                                                          tag_rules_, fields)]
        if changes:
            _write(tag_id, changes, fields)
            for _pk, rule in changes:
                counts[(rule.tag.name, rule.tag_action)] += 1
    return counts


def _write(tag_id: int, changes: list[tuple[int, Rule]], fields: dict | None) -> None:
    added = [pk for pk, rule in changes if rule.tag_action == Rule.ADD]
    removed = [pk for pk, rule in changes if rule.tag_action == Rule.REMOVE]
    TAGGED.objects.bulk_create([TAGGED(customer_id=pk, tag_id=tag_id) for pk in added],
                               ignore_conflicts=True, batch_size=1000)
    for start in range(0, len(removed), 1000):
        TAGGED.objects.filter(tag_id=tag_id, customer_id__in=removed[start:start + 1000]).delete()
    now, read = timezone.now(), {}
    known = condition_fields() if fields is None else fields
    figures = engine.figures_of([pk for pk, _rule in changes])
    log = []
    for pk, rule in changes:
        if rule.pk not in read:
            read[rule.pk] = engine.rule_fields(rule, known)
        keys = read[rule.pk]
        log.append(ClassChange(customer_id=pk, tag_id=tag_id, tag_action=rule.tag_action,
                               rule=rule, rule_name=rule.name, at=now,
                               figures={k: figures.get(pk, {}).get(k) for k in keys}))
    ClassChange.objects.bulk_create(log, batch_size=1000)


def tag_preview(*, viewer: Any, tag_id: int, rules: list[Rule]) -> engine.Plan:
    """The changes a tag's rules would make among the customers `viewer` may see: counts
    per (had the tag, would have it), and a few examples of each."""
    base = engine.preview_base(viewer)
    by_id = {rule.pk: rule for rule in rules}
    rows = (base.annotate(rule_id=engine.decision(rules, actor=None), has=_has_tag(tag_id))
            .values("rule_id", "has").annotate(n=Count("pk")).order_by())
    plan = engine.Plan()
    for row in rows:
        rule = by_id.get(row["rule_id"])
        after = row["has"] if rule is None else rule.tag_action == Rule.ADD
        if after == row["has"]:
            plan.unchanged += row["n"]
        else:
            plan.changes[(row["has"], after)] += row["n"]
    for has, after in plan.changes:
        plan.examples[(has, after)] = list(
            _disagreeing(base, tag_id, rules).filter(has=has)
            .order_by("-updated_at", "-pk").values_list("pk", flat=True)[:engine.EXAMPLES])
    return plan
