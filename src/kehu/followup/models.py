"""Follow-up (跟进): plans that generate tasks, one-off tasks and reminders, working days.

A `FollowUpPlan` targets customers by a classification value (a tier, a lifecycle stage)
or a saved segment, with a cadence; the generation job keeps one open plan task per
customer in a plan (`FollowUpTask`, kind `plan`). People add manual tasks and reminders.
Due dates fall on working days: the `chinese-calendar` library, overridden by the days an
admin enters (`CalendarDay`), materialised for SQL as `WorkingShift`. See
docs/architecture.md, "Follow-up (跟进)".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Origin
from kehu.customers.scoping import CustomerBoundQuerySet
from kehu.history.choices import Channel


class CalendarDay(models.Model):
    """A day an admin declared: a holiday (放假) or a make-up working day (调休上班).
    Takes precedence over the library; the only source for years it does not know."""

    HOLIDAY, WORKDAY = "holiday", "workday"
    KINDS = ((HOLIDAY, _("放假")), (WORKDAY, _("调休上班")))

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=KINDS)
    name = models.CharField(_("名称"), max_length=50, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


class WorkingShift(models.Model):
    """The calendar as a table SQL can join: each day of a window around today and the
    working day a due date landing on it moves to (itself on a working day), with the
    moments of that day's contact times. Rebuilt from `calendar.py` (generation.py)."""

    day = models.DateField(primary_key=True)
    working_day = models.DateField()
    morning_at = models.DateTimeField()  # 09:00 local on working_day: the default time
    noon_at = models.DateTimeField()
    afternoon_at = models.DateTimeField()
    evening_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} -> {self.working_day}"


class FollowUpPlan(models.Model):
    """跟踪计划: who is followed up on how often, over which channel, about what.

    Targets a classification value (`target_value`: A 类, 沉睡客户 …) or a saved segment.
    A plan covers the customers its author may see (`created_by`'s gate), so a manager's
    plan stays within her team. The active plans run in `position` order and a customer
    follows the first one that holds it."""

    name = models.CharField(_("名称"), max_length=100)
    target_value = models.ForeignKey("classification.DimensionValue", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("目标分类"))
    target_segment = models.ForeignKey("customers.Segment", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("目标分群"))
    cadence_days = models.PositiveIntegerField(_("跟进周期（天）"))
    channel = models.CharField(_("跟进方式"), max_length=16, blank=True,
                               choices=Channel.choices)  # empty: the customer's
    talking_points = models.TextField(_("跟进要点"), blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("执行人"))  # empty: the customer's owner
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.CheckConstraint(
            name="plan_targets_one_thing",
            condition=(Q(target_value__isnull=False, target_segment__isnull=True)
                       | Q(target_value__isnull=True, target_segment__isnull=False)))]

    def __str__(self) -> str:
        return self.name


class TaskKind(models.TextChoices):
    PLAN = "plan", _("计划跟进")
    MANUAL = "manual", _("跟进任务")
    REMINDER = "reminder", _("提醒")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class FollowUpTask(models.Model):
    """One follow-up to do: generated by a plan, or added by a person (a task or a one-off
    reminder). Done by logging a communication (`communication`) or by hand."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("执行人"))
    plan = models.ForeignKey(FollowUpPlan, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="tasks")
    kind = models.CharField(_("类型"), max_length=10, choices=TaskKind.choices,
                            default=TaskKind.MANUAL)
    title = models.CharField(_("标题"), max_length=200)
    notes = models.TextField(_("备注"), blank=True)
    channel = models.CharField(_("跟进方式"), max_length=16, blank=True, choices=Channel.choices)
    due_date = models.DateField(_("到期日"))
    due_at = models.DateTimeField(_("提醒时间"))
    status = models.CharField(_("状态"), max_length=10, choices=TaskStatus.choices,
                              default=TaskStatus.OPEN)
    # When and by whom a person finished it (done or cancelled); empty when the system
    # cancelled it. A plan task's next one is due one cadence after that day.
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    communication = models.ForeignKey("history.Communication", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    created_at = models.DateTimeField()
    # When it last happened to the task (created, done, cancelled): its place on the timeline.
    event_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    # Exactly-once marks (reminders.py): each is set by one UPDATE … WHERE … IS NULL that
    # commits with the notification it sends, so a rerun, a restart or a second worker
    # finds nothing to send. Not versioned changes: nobody edits them.
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["assignee", "status", "due_date"], name="task_agenda"),
                   models.Index(fields=["customer", "status"], name="task_customer"),
                   models.Index(fields=["customer", "event_at", "id"], name="task_timeline"),
                   # What the reminder and escalation runs look for: small partial indexes.
                   models.Index(fields=["due_at"], name="task_to_remind",
                                condition=Q(status="open", reminded_at__isnull=True)),
                   models.Index(fields=["due_date"], name="task_to_escalate",
                                condition=Q(status="open", escalated_at__isnull=True))]
        constraints = [models.UniqueConstraint(
            fields=["customer"], condition=Q(status="open", kind="plan"),
            name="one_open_plan_task")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.title} ({self.due_date})"


# The escalation thresholds, one row per value tier (`ranking.TIER_DIMENSION`'s keys) with
# its own FollowUpSettings column, and "" for any other tier or none: (key, column, label).
# The settings form, its cleaning and the escalation run all read this tuple.
ESCALATION_TIERS = (("vip", "escalate_vip_days", _("VIP")), ("a", "escalate_a_days", _("A 类")),
                    ("b", "escalate_b_days", _("B 类")), ("c", "escalate_c_days", _("C 类")),
                    ("", "escalate_other_days", _("未分级")))


class FollowUpSettings(models.Model):
    """One row: after how many days overdue a task escalates to the assignee's manager, per
    value tier (`ranking.TIER_DIMENSION`); 0 never. Edited on 设置 → 跟踪计划."""

    escalate_vip_days = models.PositiveIntegerField(_("VIP 逾期升级天数"), default=3)
    escalate_a_days = models.PositiveIntegerField(_("A 类逾期升级天数"), default=3)
    escalate_b_days = models.PositiveIntegerField(_("B 类逾期升级天数"), default=7)
    escalate_c_days = models.PositiveIntegerField(_("C 类逾期升级天数"), default=14)
    escalate_other_days = models.PositiveIntegerField(_("未分级逾期升级天数"), default=14)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return "follow-up settings"

    def thresholds(self) -> dict[str, int]:
        """{tier key ("" for none): days}, without the tiers that never escalate."""
        days = {key: getattr(self, column) for key, column, _label in ESCALATION_TIERS}
        return {key: n for key, n in days.items() if n}


class DigestSent(models.Model):
    """The daily digest's exactly-once mark: one row per person per day, inserted in the
    transaction that writes the digest's notification (the unique pair refuses a second)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_digest_a_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"


class CoverageFigure(models.Model):
    """One line of a day's coverage snapshot (监控效果, coverage.py): of the open plan tasks
    of one plan, one assignee and one customer owner, how many customers were contacted
    within the plan's cadence. Counts only — no customer row — kept per day for trends;
    the owner is what a reader's scope filters on (a manager reads her team's owners)."""

    day = models.DateField()
    plan = models.ForeignKey(FollowUpPlan, on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE,
                              related_name="+")
    total = models.PositiveIntegerField()
    contacted = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["day", "assignee"], name="coverage_day")]

    def __str__(self) -> str:
        return f"{self.day} plan {self.plan_id} → {self.assignee_id}: {self.contacted}/{self.total}"
