"""Web forms of the customer's history.

Forms only parse what the browser sends (text to dates, numbers and ids) and
choose widgets; the rules live in the services, whose ValidationError is shown
next to the field it names (`kehu.core.views.attach_errors`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers.selectors import contact_list
from kehu.history.choices import (
    Channel,
    Direction,
    NeedStatus,
    OpportunityType,
    OrderStatus,
    StageKind,
    SurveyKind,
    TicketKind,
)
from kehu.history.models import Opportunity, OrderLine, Stage
from kehu.history.selectors import communication_defaults

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def column_decimal(model: type, name: str, **kwargs: Any) -> forms.DecimalField:
    """A number input as wide as the model's column (max_digits, decimal_places), so the
    browser's value is refused next to its field rather than after the service rounds it."""
    column = model._meta.get_field(name)
    return forms.DecimalField(max_digits=column.max_digits, decimal_places=column.decimal_places,
                              **kwargs)


class ServiceForm(forms.Form):
    """A form whose cleaned values go to a service as its `data` dict."""

    def data_for_service(self) -> dict[str, Any]:
        # Empty optional fields are left out so the service keeps its defaults.
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}


class ChannelButtons(forms.RadioSelect):
    """The channel as a row of buttons; number keys 1–6 pick one (see history/history.js)."""

    template_name = "history/widgets/channel_buttons.html"


class CommunicationForm(ServiceForm):
    """The quick "log a call / visit" form on the card: it should take seconds to fill."""

    channel = forms.ChoiceField(label=_("方式"), choices=Channel.choices, widget=ChannelButtons)
    direction = forms.ChoiceField(label=_("方向"), choices=Direction.choices,
                                  initial=Direction.OUTBOUND)
    occurred_at = forms.DateTimeField(label=_("时间"), widget=DATETIME)
    contact = forms.TypedChoiceField(label=_("联系人"), coerce=int, required=False,
                                     empty_value=None)
    subject = forms.CharField(label=_("主题"), max_length=200, required=False)
    content = forms.CharField(label=_("内容"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(label=_("结果"), max_length=500, required=False)
    next_step = forms.CharField(label=_("下一步"), max_length=500, required=False)
    next_follow_up = forms.DateField(label=_("下次跟进日期"), required=False, widget=DATE)

    def __init__(self, *args: Any, contacts: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—")] + [
            (c.pk, f"{c.name} · {c.title}" if c.title else c.name) for c in contacts or []
        ]
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    @staticmethod
    def initial_from(defaults: dict[str, Any]) -> dict[str, Any]:
        """The form's initial values from `selectors.communication_defaults` (the one rule)."""
        return {
            "channel": defaults["channel"],
            "contact": defaults["contact_id"],
            "occurred_at": timezone.localtime(defaults["occurred_at"]).replace(second=0,
                                                                               microsecond=0),
        }


def communication_form(*, viewer: Any, customer_id: int, data: Any = None,
                       initial: dict[str, Any] | None = None) -> CommunicationForm:
    """The quick log form for one customer: its contacts (through the gate) to choose from;
    unbound, filled with `selectors.communication_defaults` and then `initial`. The card's
    panel and follow-up's 记一笔 build it here."""
    contacts = contact_list(viewer=viewer, customer_id=customer_id)
    if data is not None:
        return CommunicationForm(data, contacts=contacts)
    defaults = CommunicationForm.initial_from(communication_defaults(viewer=viewer,
                                                                     customer_id=customer_id))
    return CommunicationForm(initial={**defaults, **(initial or {})}, contacts=contacts)


class OrderForm(ServiceForm):
    """An order entered by hand: one product line is enough for most."""

    number = forms.CharField(label=_("订单号"), max_length=64, required=False)
    ordered_on = forms.DateField(label=_("下单日期"), widget=DATE)
    status = forms.ChoiceField(label=_("状态"), choices=OrderStatus.choices,
                               initial=OrderStatus.CONFIRMED)
    product = forms.TypedChoiceField(label=_("产品"), coerce=int)
    quantity = column_decimal(OrderLine, "quantity", label=_("数量"), initial=1, min_value=0)
    unit_price = column_decimal(OrderLine, "unit_price", label=_("单价"), required=False,
                                min_value=0, help_text=_("留空则用产品目录价"))
    discount = column_decimal(OrderLine, "discount", label=_("折扣金额"), required=False,
                              min_value=0)
    notes = forms.CharField(label=_("备注"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, products: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.pk, str(p)) for p in products or []]
        self.fields["ordered_on"].initial = timezone.localdate()

    def data_for_service(self) -> dict[str, Any]:
        data = super().data_for_service()
        line = {"product": data.pop("product"), "quantity": data.pop("quantity")}
        for key in ("unit_price", "discount"):
            if key in data:
                line[key] = data.pop(key)
        data["lines"] = [line]
        return data


class NeedForm(ServiceForm):
    content = forms.CharField(label=_("需求"), widget=forms.Textarea(attrs={"rows": 2}))
    status = forms.ChoiceField(label=_("状态"), choices=NeedStatus.choices,
                               initial=NeedStatus.OPEN)


class SurveyForm(ServiceForm):
    kind = forms.ChoiceField(label=_("类型"), choices=SurveyKind.choices)
    score = forms.IntegerField(label=_("分数"), min_value=0, max_value=10)
    comment = forms.CharField(label=_("评价"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    channel = forms.ChoiceField(label=_("渠道"), choices=[("", "—"), *Channel.choices],
                                required=False)
    answered_on = forms.DateField(label=_("日期"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["answered_on"].initial = timezone.localdate()


class TicketForm(ServiceForm):
    kind = forms.ChoiceField(label=_("类型"), choices=TicketKind.choices)
    subject = forms.CharField(label=_("主题"), max_length=200)
    content = forms.CharField(label=_("内容"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))


class OpportunityForm(ServiceForm):
    title = forms.CharField(label=_("名称"), max_length=200)
    kind = forms.ChoiceField(label=_("类型"), choices=OpportunityType.choices)
    amount = column_decimal(Opportunity, "amount", label=_("金额"), min_value=0)
    expected_close = forms.DateField(label=_("预计成交日期"), required=False, widget=DATE)
    stage = forms.TypedChoiceField(label=_("阶段"), coerce=int)

    def __init__(self, *args: Any, stages: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [
            (s.pk, f"{s.pipeline.name} · {s.name}") for s in stages or []
        ]


# --- pipelines and stages (the settings area) -------------------------------------
# Plain text in, so the service's cleaners are the one check of every value (a probability
# of 120 is refused by `cleaning.clean_stage`, next to its field, in the web and the API).


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("流程名称"), required=False)
    is_default = forms.BooleanField(label=_("设为默认流程"), required=False)

    def __init__(self, *args: Any, rename: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].kehu_required = True
        if rename:  # the default is switched with its own button
            del self.fields["is_default"]

    def data_for_service(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class StageForm(forms.Form):
    """A stage's row in the pipeline's table (or the "add a stage" row): its inputs may sit in
    other cells than the <form> element, tied to it by the `form` attribute."""

    name = forms.CharField(label=_("阶段名称"), required=False)
    probability = forms.CharField(label=_("赢率 %"), required=False, widget=forms.NumberInput(
        attrs={"min": 0, "max": 100, "step": 1, "inputmode": "numeric", "class": "num-input"}))
    kind = forms.CharField(label=_("类型"), required=False,
                           widget=forms.Select(choices=StageKind.choices))

    def __init__(self, *args: Any, form_id: str, new: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", form_id)  # one page holds a row per stage: ids stay unique
        super().__init__(*args, **kwargs)
        self.form_id, self.new = form_id, new
        for field in self.fields.values():
            field.widget.attrs["form"] = form_id
        if new:  # what an empty probability becomes
            self.fields["probability"].widget.attrs["placeholder"] = \
                Stage._meta.get_field("probability").default

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.new and data["probability"] == "":  # a new stage takes the model's default
            del data["probability"]
        return data
