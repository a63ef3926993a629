"""Saved segments (分群): a named condition (customers.conditions) kept for reuse.

Services (`segment_save`, `segment_delete`, `segment_count_refresh`) take actor and
origin; selectors (`segment_list`, `segment_get`, `segment_members`) take viewer.

Who sees a segment: its owner always; a team segment also everyone whose department is
the owner's department or one below it (the department tree `accounts.policy` scopes
managers by; an owner without a department has no team); an "everyone" segment the whole
company. A private segment is its owner's alone, admins included. Only a person whose
role reaches beyond their own customers and may write (managers, admins — `may_publish`)
may publish to everyone: a rep's list of segments is not a company noticeboard.

Members are always the VIEWER's customers matching the condition: the condition is
applied on top of the viewer's gate, never the owner's, so a rep opening her manager's
team segment sees only her own customers in it.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import DataScope, Department, User
from kehu.accounts.policy import access_for
from kehu.core.errors import Http404, PermissionDenied
from kehu.core.inputs import parse_id
from kehu.core.records import check_version, record_create, record_delete, record_update
from kehu.customers.conditions import condition_q, parse_condition
from kehu.customers.models import Customer, Segment

VISIBILITIES = {value for value, _label in Segment.VISIBILITIES}


def may_publish(user: User) -> bool:
    """Whether `user` may make a segment visible to everyone (admins and managers)."""
    access = access_for(user)
    return access.is_admin or (access.can_write and access.scope != DataScope.OWN)


# --- services -----------------------------------------------------------------------------


@transaction.atomic
def segment_save(*, actor: User, origin: str, data: dict[str, Any],
                 segment: Segment | None = None, expected_version: int | None = None) -> Segment:
    """Create a segment (actor owns it) or change one the actor owns; the condition is
    checked whole (parse_condition), and the owner's count refreshed."""
    values = _clean(actor, data, segment)
    if segment is None:
        segment = Segment(owner=actor, **values)
        record_create(actor=actor, instance=segment, origin=origin,
                      summary={"name": segment.name, "visibility": segment.visibility})
    else:
        segment = _owned(actor, segment.pk, lock=True)
        segment = record_update(actor=actor, instance=segment, values=values, origin=origin,
                                expected_version=expected_version)
    return segment_count_refresh(segment=segment)


@transaction.atomic
def segment_delete(*, actor: User, origin: str, segment: Segment,
                   expected_version: int | None = None) -> None:
    """Delete a segment its owner (or an admin) no longer wants."""
    found = _owned(actor, segment.pk, lock=True)
    check_version(found, expected_version)
    record_delete(actor=actor, instance=found, origin=origin)


def segment_count_refresh(*, segment: Segment) -> Segment:
    """The owner's count of members (None when the condition no longer parses)."""
    try:
        count: int | None = _members(segment.owner, segment).count()
    except ValidationError:
        count = None
    Segment.objects.filter(pk=segment.pk).update(member_count=count, counted_at=timezone.now())
    segment.member_count, segment.counted_at = count, timezone.now()
    return segment


def segment_counts_refresh() -> int:
    """Every segment's owner count again (the hourly job); returns how many were counted."""
    done = 0
    for segment in Segment.objects.select_related("owner").iterator(chunk_size=200):
        segment_count_refresh(segment=segment)
        done += 1
    return done


def _clean(actor: User, data: dict[str, Any], segment: Segment | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if segment is None or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 100 or "\x00" in name:
            errors["name"] = [_("名称必填，最多 100 个字")]
        values["name"] = name
    if segment is None or "visibility" in data:
        visibility = data.get("visibility") or Segment.PRIVATE
        if visibility not in VISIBILITIES:
            errors["visibility"] = [_("“%(value)s” 不是可选值") % {"value": visibility}]
        elif visibility == Segment.EVERYONE and not may_publish(actor):
            errors["visibility"] = [_("只有管理员和经理可以把分群设为全公司可见")]
        values["visibility"] = visibility
    if segment is None or "condition" in data:
        values["condition"] = _condition(data.get("condition"), errors)
    if errors:
        raise ValidationError(errors)
    return values


def _condition(raw: Any, errors: dict[str, list[str]]) -> Any:
    try:
        parse_condition(raw)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            name = "condition" if key == "filter" else f"condition.{key}"
            errors.setdefault(name, []).extend(messages)
        return None
    return parse_json(raw)


def parse_json(raw: Any) -> Any:
    """The condition as stored: JSON text from a form becomes the dict it spells."""
    return json.loads(raw) if isinstance(raw, str) else raw


def _owned(actor: User, pk: Any, *, lock: bool = False) -> Segment:
    """A segment the actor may change: their own (admins: any); 404 when the actor may not
    even see it, refused when they only may."""
    segment = segment_get(viewer=actor, pk=pk)
    if segment.owner_id != actor.pk and not access_for(actor).is_admin:
        raise PermissionDenied(_("只有分群的创建人可以修改或删除它"))
    if lock:
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
    return segment


# --- selectors ----------------------------------------------------------------------------


def segment_list(*, viewer: User) -> QuerySet[Segment]:
    """The segments `viewer` may open: their own, their team's, the company's."""
    if not access_for(viewer).user_id:
        return Segment.objects.none()
    return Segment.objects.filter(_visible(viewer)).select_related("owner")


def segment_get(*, viewer: User, pk: Any) -> Segment:
    """One segment `viewer` may open; 404 for missing and not visible alike."""
    try:
        pk = parse_id(pk, field="segment")
    except ValidationError as exc:
        raise Http404 from exc
    segment = segment_list(viewer=viewer).filter(pk=pk).first()
    if segment is None:
        raise Http404
    return segment


def segment_condition(segment: Segment) -> Any:
    """The parsed condition, or a ValidationError saying why the segment can no longer be
    used (a custom field it names was deactivated or deleted, say)."""
    try:
        return parse_condition(segment.condition)
    except ValidationError as exc:
        why = "；".join(f"{k}: {m}" if k != "filter" else m
                       for k, ms in exc.message_dict.items() for m in ms)
        raise ValidationError({"segment": [
            _("分群“%(name)s”的条件已无法使用（%(why)s），请重新设置条件后保存") % {
                "name": segment.name, "why": why}]}) from exc


def segment_members(*, viewer: User, segment: Segment) -> QuerySet[Customer]:
    """The viewer's own customers (their gate, not the owner's) matching the segment.

    ValidationError when the condition no longer parses (segment_condition)."""
    return _members(viewer, segment)


def _members(viewer: User, segment: Segment) -> QuerySet[Customer]:
    node = segment_condition(segment)
    return Customer.objects.visible_to(viewer).filter(condition_q(node, viewer=viewer))


def _visible(viewer: User) -> Q:
    """Own, everyone's, and team segments whose owner's department is the viewer's or one
    above it — the viewer's department path starts with the owner's (one subquery, no
    walk: the list page pays one query for its segments)."""
    visible = Q(owner_id=viewer.pk) | Q(visibility=Segment.EVERYONE)
    if viewer.department_id is None:
        return visible
    below_owners = Department.objects.filter(
        pk=viewer.department_id, path__startswith=OuterRef("owner__department__path"))
    return visible | (Q(visibility=Segment.TEAM) & Q(Exists(below_owners)))
