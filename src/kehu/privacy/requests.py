"""Data-subject requests (个人信息权利请求): open one, confirm who the person is, close it.

Admins only (`accounts.policy.require_admin`): a request reaches every customer, whatever
its owner. Every write is the one write path's (`core.records`), so each step is a
change-log row the audit trail seals. Finding the person is `finding.py`, the copy of
their data `report.py`, the erasure `erasure.py` run as the job `privacy.erase`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import require_admin
from kehu.core.cleaning import Collector, choice_cleaner, clean_date, text_cleaner
from kehu.core.errors import ValidationError
from kehu.core.records import record_create, record_update
from kehu.customers.models import Contact, Customer
from kehu.jobs.models import Job
from kehu.jobs.models import Status as JobStatus
from kehu.jobs.services import job_start
from kehu.privacy.choices import RequestKind, RequestStatus
from kehu.privacy.jobs import ERASE_JOB
from kehu.privacy.models import SubjectRequest

# PIPL names no deadline ("及时"); the GDPR gives one month (art. 12 (3)): 30 days by default.
DUE_DAYS = 30
FIELDS = ("kind", "requester", "requester_contact", "identity_check", "details", "received_on",
          "due_on")


def clean_request(data: dict[str, Any]) -> dict[str, Any]:
    """A request's values, or a ValidationError naming every bad field."""
    collector = Collector()
    for name in sorted(set(data) - set(FIELDS)):
        collector.add_error(name, _("没有这个字段"))
    collector.run("kind", choice_cleaner(RequestKind, required=True), data.get("kind"))
    collector.run("requester", text_cleaner(100, required=True), data.get("requester"))
    collector.run("requester_contact", text_cleaner(200), data.get("requester_contact"))
    collector.run("identity_check", text_cleaner(500, required=True), data.get("identity_check"))
    collector.run("details", text_cleaner(5000), data.get("details"))
    collector.run("received_on", clean_date, data.get("received_on"))
    collector.run("due_on", clean_date, data.get("due_on"))
    values = collector.cleaned
    received = values.get("received_on") or timezone.localdate()
    values["received_on"] = received
    if received > timezone.localdate():
        collector.add_error("received_on", _("收到日期不能晚于今天"))
    values["due_on"] = values.get("due_on") or received + dt.timedelta(days=DUE_DAYS)
    if values["due_on"] < received:
        collector.add_error("due_on", _("截止日期不能早于收到日期"))
    return collector.result()


@transaction.atomic
def request_open(*, actor: User, origin: str, data: dict[str, Any]) -> SubjectRequest:
    require_admin(actor, _("只有管理员可以处理个人信息权利请求"))
    return record_create(actor=actor, origin=origin, instance=SubjectRequest(**clean_request(data)),
                         summary={"request": "open", "kind": data.get("kind")})


def request_get(viewer: User, pk: Any) -> SubjectRequest:
    require_admin(viewer, _("只有管理员可以处理个人信息权利请求"))
    try:
        return SubjectRequest.objects.get(pk=int(pk))
    except (SubjectRequest.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404 from exc


def requests_list(viewer: User, *, status: str = "") -> list[SubjectRequest]:
    require_admin(viewer, _("只有管理员可以处理个人信息权利请求"))
    rows = SubjectRequest.objects.all()
    if status in RequestStatus.values:
        rows = rows.filter(status=status)
    return list(rows.order_by("status", "due_on", "-id")[:500])


def _clean_subjects(values: Any) -> list[dict[str, int | None]]:
    """"customer:12" / "contact:34" picks (the find page's tick boxes) as subjects."""
    subjects: list[dict[str, int | None]] = []
    for value in values or []:
        kind, _sep, number = str(value).partition(":")
        if kind not in ("customer", "contact") or not number.isdigit() or len(number) > 18:
            raise ValidationError({"subjects": [_("无法识别的选择：%(v)s") % {"v": value}]})
        if kind == "customer":
            if not Customer.objects.filter(pk=int(number)).exists():
                raise ValidationError({"subjects": [_("客户 #%(n)s 不存在") % {"n": number}]})
            item = {"customer": int(number), "contact": None}
        else:
            customer_id = Contact.objects.filter(pk=int(number)).values_list(
                "customer_id", flat=True).first()
            if customer_id is None:
                raise ValidationError({"subjects": [_("联系人 #%(n)s 不存在") % {"n": number}]})
            item = {"customer": customer_id, "contact": int(number)}
        if item not in subjects:
            subjects.append(item)
    return subjects


@transaction.atomic
def request_set_subjects(*, actor: User, origin: str, request: SubjectRequest,
                         picks: Any) -> SubjectRequest:
    """Which customers and contacts are the person (the handler's confirmed picks)."""
    request = _locked_open(actor, request)
    return record_update(actor=actor, origin=origin, instance=request,
                         values={"subjects": _clean_subjects(picks)})


@transaction.atomic
def request_close(*, actor: User, origin: str, request: SubjectRequest, status: str,
                  outcome: Any) -> SubjectRequest:
    """完成 or 拒绝, with what was done (or why not) — required: the person is told it."""
    request = _locked_open(actor, request)
    collector = Collector()
    collector.run("status", _closing_status, status)
    collector.run("outcome", text_cleaner(5000, required=True), outcome)
    values = collector.result()
    return record_update(actor=actor, origin=origin, instance=request, action="close",
                         values={**values, "closed_at": timezone.now(), "closed_by": actor})


def _closing_status(value: Any) -> str:
    if value not in (RequestStatus.DONE, RequestStatus.REFUSED):
        raise ValidationError(_("应为“已完成”或“已拒绝”"))
    return str(value)


def _locked_open(actor: User, request: SubjectRequest) -> SubjectRequest:
    require_admin(actor, _("只有管理员可以处理个人信息权利请求"))
    request = SubjectRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise ValidationError({"status": [_("这个请求已经结束")]})
    return request


@transaction.atomic
def request_erase(*, actor: User, origin: str, request: SubjectRequest, reason: Any,
                  queued: bool = True) -> Job:
    """Start the erasure of the request's confirmed subjects (the job `privacy.erase`).

    The reason is required (it stands in the audit trail) and must not repeat the person's
    details: it is kept after they are gone. A second press while the job runs is refused."""
    request = _locked_open(actor, request)
    collector = Collector()
    collector.run("reason", text_cleaner(500, required=True), reason)
    values = collector.result()
    if not request.subjects:
        raise ValidationError({"subjects": [_("请先确认要删除的客户或联系人")]})
    running = Job.objects.filter(kind=ERASE_JOB, params__request=request.pk,
                                 status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
    if running.exists():
        raise ValidationError({"reason": [_("删除任务已在进行中")]})
    return job_start(actor=actor, origin=origin, kind=ERASE_JOB, queued=queued,
                     params={"request": request.pk, "reason": values["reason"]})


def request_jobs(viewer: User, request: SubjectRequest) -> list[Job]:
    """The erasure runs of the request, newest first (their progress is on the job's page)."""
    require_admin(viewer, _("只有管理员可以处理个人信息权利请求"))
    return list(Job.objects.filter(kind=ERASE_JOB, params__request=request.pk)
                .order_by("-created_at"))
