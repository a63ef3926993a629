"""The request pages' forms. They only render what was typed and show the services'
errors next to their fields: requests.clean_request and finding.clean_search clean."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.privacy.choices import RequestKind, RequestStatus
from kehu.privacy.forms import text_field

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RequestForm(forms.Form):
    kind = text_field(_("请求类型"), required=True,
                 widget=forms.Select(choices=[("", "—"), *RequestKind.choices]))
    requester = text_field(_("请求人"), required=True,
                      widget=forms.TextInput(attrs={"maxlength": 100}))
    requester_contact = text_field(_("请求人联系方式"), widget=forms.TextInput(attrs={"maxlength": 200}),
                              help_text=_("答复用；删除完成后一并清除"))
    identity_check = text_field(_("身份核验"), required=True,
                           widget=forms.TextInput(attrs={"maxlength": 500}),
                           help_text=_("如：回拨预留手机号、核对身份证后四位"))
    details = text_field(_("请求内容"), widget=forms.Textarea(attrs={"rows": 3}))
    received_on = text_field(_("收到日期"), widget=DATE, help_text=_("留空为今天"))
    due_on = text_field(_("截止日期"), widget=DATE, help_text=_("留空为收到后 30 天"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "request_%s")
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        return {name: self.data.get(name, "") for name in self.fields}


class FindForm(forms.Form):
    """What the person gave to be found by: never stored (finding.py)."""

    phone = text_field(_("手机 / 电话"), widget=forms.TextInput(attrs={"inputmode": "tel",
                                                                "autocomplete": "off"}))
    email = text_field(_("邮箱"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    id_number = text_field(_("身份证号"), widget=forms.TextInput(attrs={"autocomplete": "off"}))
    name = text_field(_("姓名 / 名称"), widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "find_%s")
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        return {name: self.data.get(name, "") for name in self.fields}


class CloseForm(forms.Form):
    status = text_field(_("结果"), required=True, initial=RequestStatus.DONE, widget=forms.Select(
        choices=[(RequestStatus.DONE, RequestStatus.DONE.label),
                 (RequestStatus.REFUSED, RequestStatus.REFUSED.label)]))
    outcome = text_field(_("处理结果"), required=True, widget=forms.Textarea(attrs={"rows": 3}),
                    help_text=_("做了什么，或为什么拒绝；会告知请求人"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "close_%s")
        super().__init__(*args, **kwargs)


class EraseForm(forms.Form):
    reason = text_field(_("删除原因"), required=True, widget=forms.TextInput(attrs={"maxlength": 500}),
                   help_text=_("记入审计日志并在删除后保留：请勿写入本人的姓名或联系方式"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "erase_%s")
        super().__init__(*args, **kwargs)
