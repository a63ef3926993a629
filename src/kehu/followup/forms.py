"""Forms of follow-up pages; their values go to the services, which validate for real."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.followup.cleaning import MAX_ESCALATION, DayKind, PersonTaskKind
from kehu.followup.models import ESCALATION_TIERS
from kehu.followup.talking import NAMES
from kehu.history.choices import Channel

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    target = forms.ChoiceField(label=_("目标客户"))
    cadence_days = forms.IntegerField(label=_("跟进周期（天）"), min_value=1, max_value=365)
    channel = forms.ChoiceField(label=_("跟进方式"), required=False,
                                choices=[("", _("按客户偏好"))] + list(Channel.choices))
    assignee = forms.ChoiceField(label=_("执行人"), required=False)
    talking_points = forms.CharField(
        label=_("跟进要点"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("可用占位符：") + "、".join("{" + n + "}" for n in NAMES))
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, targets: list, people: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "—")] + targets
        self.fields["assignee"].choices = [("", _("客户负责人"))] + [(u.pk, u.label) for u in people]
        self.fields["talking_points"].kehu_wide = True


class TaskForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=PersonTaskKind.choices,
                             initial=PersonTaskKind.MANUAL)
    title = forms.CharField(label=_("标题"), max_length=200)
    due_date = forms.DateField(label=_("到期日"), widget=DATE)
    due_time = forms.TimeField(label=_("时间"), required=False,
                               widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    notes = forms.CharField(label=_("备注"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=DATE)
    kind = forms.ChoiceField(label=_("类型"), choices=DayKind.choices)
    name = forms.CharField(label=_("名称"), max_length=50, required=False)


# Days overdue before a task escalates to the assignee's manager: one field per tier of
# models.ESCALATION_TIERS, in its order.
EscalationForm = type(forms.Form)("EscalationForm", (forms.Form,), {
    "__module__": __name__,
    **{column: forms.IntegerField(label=label, min_value=0, max_value=MAX_ESCALATION)
       for _key, column, label in ESCALATION_TIERS}})
