"""The card's grant form. It only renders what was typed and shows the service's errors next
to their fields: every value is cleaned once, by `cleaning.clean_grant`, as for the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.privacy.choices import Channel, LegalBasis, Purpose

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def text_field(label: Any, *, widget: Any = None, required: bool = False, **kwargs: Any) -> Any:
    field = forms.CharField(label=label, required=False, widget=widget, **kwargs)
    field.kehu_required = required  # the * beside the label; the service decides
    return field


class ConsentForm(forms.Form):
    purpose = text_field(_("目的"), required=True,
                    widget=forms.Select(choices=[("", "—"), *Purpose.choices]))
    legal_basis = text_field(_("法律依据"), required=True, initial=LegalBasis.CONSENT,
                        widget=forms.Select(choices=LegalBasis.choices))
    notice_version = text_field(_("告知文本版本"), required=True,
                           widget=forms.TextInput(attrs={"placeholder": _("如：隐私政策 v3 2026-10"),
                                                         "maxlength": 100}))
    channel = text_field(_("渠道"), required=True,
                    widget=forms.Select(choices=[("", "—"), *Channel.choices]))
    granted_at = text_field(_("同意时间"), widget=DATETIME, help_text=_("留空为现在"))
    note = text_field(_("备注"), widget=forms.TextInput(attrs={"maxlength": 255}))
    sensitive = forms.BooleanField(label=_("含敏感个人信息的单独同意（个保法第 29 条）"),
                                   required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the card holds other forms with a channel or a note (history's log).
        kwargs.setdefault("auto_id", "consent_%s")
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        """What was typed, as the service takes it (a box left empty: its default). The
        contact is a select the panel draws from the card's own contacts (no query more)."""
        data = {name: self.data.get(name, "") for name in (*self.fields, "contact")
                if name != "sensitive"}
        data["sensitive"] = "sensitive" in self.data
        return {k: v for k, v in data.items() if v != "" or k in ("purpose", "notice_version",
                                                                  "channel")}
