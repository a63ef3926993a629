"""The erasure of a request's subjects, and retention, as jobs.

`privacy.erase` erases each confirmed subject of one request in its own transaction
(erasure.py) with the job's progress in the same one, so a worker killed half-way resumes
with the next subject; a subject erased already is skipped, so the job is idempotent.

`privacy.retention` (nightly, off unless KEHU_PRIVACY_RETENTION_DAYS is set) anonymises the
customers with no order, no communication and no change for that long, through the same
erasure, and attaches a report of which ids went.

`privacy.requests_due` (every morning) reminds the admins of open requests due soon or late.
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.audit import redaction
from kehu.core.models import ChangeLog, Origin
from kehu.core.records import record_update
from kehu.customers.models import Contact, Customer
from kehu.history.models import Communication, Order
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job
from kehu.notifications.models import Level
from kehu.notifications.services import notify
from kehu.privacy.choices import RequestStatus
from kehu.privacy.erasure import ERASED_CONTACT, erase_contact, erase_customer
from kehu.privacy.finding import ERASED_PREFIX
from kehu.privacy.models import SubjectRequest

ERASE_JOB = "privacy.erase"
RETENTION_JOB = "privacy.retention"
DUE_JOB = "privacy.requests_due"
RETENTION_BATCH = 500
DUE_SOON_DAYS = 3


@job(ERASE_JOB, title=gettext_lazy("删除个人信息"), max_attempts=3)
def erase_request(ctx: JobContext) -> dict[str, Any]:
    request = SubjectRequest.objects.get(pk=ctx.params["request"])
    subjects = request.subjects
    ctx.stage(_("匿名化"), total=len(subjects), done=0)
    erased = skipped = 0
    for subject in subjects:
        with ctx.step():
            if _already_erased(subject):
                skipped += 1
                continue
            kwargs = {"actor": ctx.actor, "origin": ctx.job.origin,
                      "reason": ctx.params.get("reason", ""), "request_id": request.pk}
            if subject["contact"]:
                erase_contact(contact_id=subject["contact"], **kwargs)
            else:
                erase_customer(customer_id=subject["customer"], **kwargs)
            erased += 1
    with transaction.atomic():
        _forget_requester(ctx, SubjectRequest.objects.select_for_update().get(pk=request.pk))
    return {str(_("已匿名化")): erased, str(_("此前已匿名化")): skipped}


def _forget_requester(ctx: JobContext, request: SubjectRequest) -> None:
    """The request keeps what was asked and done, not who asked: the requester's name and
    contact go from the row and from the change-log rows that logged them, resealed like
    the subjects' own rows (audit/redaction.py) so `kehu audit verify` still holds."""
    terms = tuple(t for t in (request.requester, request.requester_contact) if len(t) >= 2)
    # This update logs the old name as "before" too: it is redacted with the others below.
    record_update(actor=ctx.actor, origin=ctx.job.origin, instance=request, action="erase",
                  values={"erased_at": timezone.now(), "requester": _("（已删除）"),
                          "requester_contact": ""})
    rows = redaction.matching(ChangeLog.objects.filter(model=SubjectRequest._meta.label_lower,
                                                       object_id=request.pk), ["changes"], terms)
    count, resealed = redaction.redact_changes(list(rows.values_list("pk", flat=True)))
    redaction.record_erasure(actor=ctx.actor, customer_id=None,
                             label=str(request), details={"request": request.pk,
                                                          "change_log": count,
                                                          "resealed": resealed})


def _already_erased(subject: dict[str, Any]) -> bool:
    if subject["contact"]:
        name = Contact.objects.filter(pk=subject["contact"]).values_list("name", flat=True).first()
        return name in (None, ERASED_CONTACT)
    name = Customer.objects.filter(pk=subject["customer"]).values_list("name", flat=True).first()
    return name is None or name.startswith(ERASED_PREFIX)


def retention_candidates(cutoff: dt.datetime, limit: int) -> list[int]:
    """Customers untouched since `cutoff`: no change, no order and no communication since."""
    recent_order = Order.objects.filter(customer_id=OuterRef("pk"), ordered_on__gte=cutoff.date())
    recent_call = Communication.objects.filter(customer_id=OuterRef("pk"),
                                               occurred_at__gte=cutoff)
    return list(Customer.objects.filter(updated_at__lt=cutoff)
                .exclude(name__startswith=ERASED_PREFIX)
                .exclude(Exists(recent_order)).exclude(Exists(recent_call))
                .order_by("pk").values_list("pk", flat=True)[:limit])


@job(RETENTION_JOB, title=gettext_lazy("个人信息保留期匿名化"), max_attempts=3,
     schedule="30 4 * * *")
def retention(ctx: JobContext) -> dict[str, Any]:
    days = settings.KEHU_PRIVACY_RETENTION_DAYS
    if not days:
        return {str(_("未启用")): 0}
    cutoff = timezone.now() - dt.timedelta(days=days)
    ctx.stage(_("匿名化长期不活跃的客户"))
    while ids := retention_candidates(cutoff, RETENTION_BATCH):
        for customer_id in ids:
            with ctx.step():
                erase_customer(actor=ctx.actor, origin=Origin.SYSTEM, customer_id=customer_id,
                               reason=_("超过保留期 %(days)s 天未活跃") % {"days": days})
    # The report comes from the change log, not from the job's state: a state listing every
    # id would be rewritten whole at each step (quadratic for a first run over years).
    erased = list(ChangeLog.objects.filter(action="erase", model="customers.customer",
                                           origin=Origin.SYSTEM, at__gte=ctx.job.created_at)
                  .order_by("pk").values_list("object_id", "at"))
    path = ctx.file_path("retention.csv")
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([_("客户编号"), _("匿名化时间")])
        writer.writerows([[pk, timezone.localtime(at).isoformat(timespec="seconds")]
                          for pk, at in erased])
    ctx.attach(path, content_type="text/csv")
    return {str(_("已匿名化")): len(erased), str(_("截止")): cutoff.date().isoformat()}


@job(DUE_JOB, title=gettext_lazy("个人信息权利请求到期提醒"), max_attempts=3,
     schedule="0 9 * * *")
def requests_due(ctx: JobContext) -> dict[str, Any]:
    """Every morning, each admin hears of the open requests due within DUE_SOON_DAYS or
    overdue: PIPL asks for a timely answer, the GDPR for one within a month."""
    soon = timezone.localdate() + dt.timedelta(days=DUE_SOON_DAYS)
    due = list(SubjectRequest.objects.filter(status=RequestStatus.OPEN, due_on__lte=soon)
               .order_by("due_on", "pk"))
    admins = list(User.objects.filter(is_active=True, is_system=False)
                  .filter(Q(is_superuser=True) | Q(role__is_admin=True)))
    today = timezone.localdate()
    for item in due:
        late = item.due_on < today
        title = (_("个人信息权利请求 #%(n)s 已逾期（截止 %(day)s）") if late else
                 _("个人信息权利请求 #%(n)s 将于 %(day)s 到期")) % {
            "n": item.pk, "day": item.due_on.isoformat()}
        for admin in admins:
            notify(recipient=admin, title=title, body=item.get_kind_display(),
                   link=reverse("privacy:request", args=[item.pk]), actor=None,
                   origin=Origin.SYSTEM, level=Level.WARNING if late else Level.INFO)
    return {str(_("到期的请求")): len(due), str(_("提醒的管理员")): len(admins)}
