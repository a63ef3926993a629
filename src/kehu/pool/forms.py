"""Forms of the pool's settings screens; their values go to the services, which validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class PoolForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    departments = forms.MultipleChoiceField(label=_("适用部门"), help_text=_(
        "这些部门及其下级部门的人员是公海成员：能看到公海客户并领取"))
    daily_claims = forms.IntegerField(label=_("每人每日可领取"), min_value=0, initial=5)
    max_held = forms.IntegerField(label=_("每人最多持有客户"), min_value=1, required=False,
                                  help_text=_("留空表示不限；按负责的全部客户计算"))
    reclaim_wait_days = forms.IntegerField(label=_("原负责人再领取等待（天）"), min_value=0,
                                           initial=30)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, departments: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].choices = [(d.pk, d.name) for d in departments]


class RuleForm(forms.Form):
    target_value = forms.ChoiceField(label=_("适用客户"), required=False)
    idle_days = forms.IntegerField(label=_("未跟进天数"), min_value=1)
    no_deal_days = forms.IntegerField(label=_("未成交天数"), min_value=1, required=False,
                                      help_text=_("留空表示只按未跟进回收"))
    warn_days = forms.IntegerField(label=_("提前提醒天数"), min_value=0, initial=3)
    exempt_won = forms.BooleanField(label=_("已成交客户不回收"), required=False, initial=True)
    exempt_open_opportunities = forms.BooleanField(label=_("有进行中商机不回收"), required=False,
                                                   initial=True)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, targets: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target_value"].choices = [("", _("全部客户"))] + targets
