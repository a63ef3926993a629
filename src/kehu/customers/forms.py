"""Forms of the customer pages: for rendering and parsing only.

Every field is optional and untyped here on purpose: the services validate
(phones, credit codes, required custom fields ...) and their ValidationError is
attached back to these fields with `kehu.core.views.attach_errors`. A Django
form that validated too would say things the API never says.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kehu.core.versions import VersionedForm
from kehu.core.views import display_phone, joined, lines
from kehu.customers.choices import (
    CompanySize,
    CustomerKind,
    CustomFieldType,
    DecisionRole,
    Gender,
    Industry,
    Source,
)
from kehu.customers.models import Customer, CustomField
from kehu.customers.selectors import CUSTOMER_SENSITIVE, custom_values_by_key

CUSTOM_FIELD_PREFIX = "cf_"
BLANK = [("", "—")]
CUSTOMER_TEXT = ("name", "short_name", "province", "city", "district", "address", "wechat",
                 "credit_code", "id_number", "notes")
CUSTOMER_CHOICE = ("kind", "industry", "company_size", "source", "gender")


# Shown under an encrypted field (ID numbers; phones, e-mails, WeChat ids when chosen).
SEALED_HELP = _("加密保存；只能按完整号码搜索")


class RawMultiple(forms.Field):
    """A list of raw strings (checkboxes); the service decides which values are allowed."""

    def to_python(self, value: Any) -> list[str]:
        return [str(v) for v in value] if value else []


def _select(choices, label) -> forms.CharField:
    return forms.CharField(label=label, required=False,
                           widget=forms.Select(choices=BLANK + list(choices)))


def _textarea(label, rows: int = 2, **attrs) -> forms.CharField:
    return forms.CharField(label=label, required=False,
                           widget=forms.Textarea(attrs={"rows": rows, **attrs}))


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def custom_field_label(field: CustomField) -> str:
    """The English label when the page is in English and one was given."""
    if field.label_en and (get_language() or "").startswith("en"):
        return field.label_en
    return field.label


def custom_form_field(definition: CustomField) -> forms.Field:
    """A form field for one custom field definition, by its type."""
    label = custom_field_label(definition)
    options = [(c, c) for c in definition.choices or []]
    kind = definition.field_type
    if kind == CustomFieldType.MULTI_CHOICE:
        field: forms.Field = RawMultiple(label=label, required=False,
                                         widget=forms.CheckboxSelectMultiple(choices=options))
    elif kind == CustomFieldType.CHOICE:
        field = _select(options, label)
    elif kind == CustomFieldType.DATE:
        field = forms.CharField(label=label, required=False, widget=DATE_INPUT)
    elif kind == CustomFieldType.NUMBER:
        field = forms.CharField(label=label, required=False,
                                widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    else:
        field = forms.CharField(label=label, required=False)
    field.kehu_required = definition.required
    return field


SENSITIVE_HELP = _("敏感个人信息：仅管理员可见可填，且需客户的单独同意")


class CustomerForm(VersionedForm):
    """Create or edit a customer. Phones and emails: one per line; tags: comma-separated."""

    kind = forms.CharField(label=_("客户类型"), required=False,
                           widget=forms.RadioSelect(choices=CustomerKind.choices))
    name = forms.CharField(label=_("客户名称"), required=False)
    short_name = forms.CharField(label=_("简称"), required=False)
    industry = _select(Industry.choices, _("行业"))
    company_size = _select(CompanySize.choices, _("公司规模"))
    source = _select(Source.choices, _("客户来源"))
    owner = forms.CharField(label=_("负责人"), required=False)
    province = forms.CharField(label=_("省份"), required=False)
    city = forms.CharField(label=_("城市"), required=False)
    district = forms.CharField(label=_("区县"), required=False)
    address = forms.CharField(label=_("详细地址"), required=False)
    phones = _textarea(_("电话"), placeholder="138 1234 5678", inputmode="tel")
    emails = _textarea(_("邮箱"), placeholder="name@example.com", inputmode="email")
    phones.help_text = _("每行一个号码")
    emails.help_text = _("每行一个邮箱")
    wechat = forms.CharField(label=_("微信"), required=False)
    gender = _select(Gender.choices, _("性别"))
    birthday = forms.CharField(label=_("生日"), required=False, widget=DATE_INPUT)
    credit_code = forms.CharField(label=_("统一社会信用代码"), required=False)
    id_number = forms.CharField(label=_("身份证号"), required=False, help_text=SEALED_HELP)
    tags = forms.CharField(label=_("标签"), required=False,
                           help_text=_("用逗号分隔，例如：重点客户, 渠道商"))
    notes = _textarea(_("备注"), rows=4)

    GROUPS = (
        (_("基本信息"), ("kind", "name", "short_name", "industry", "company_size", "source", "owner")),
        (_("联系方式"), ("phones", "emails", "wechat")),
        (_("地区与地址"), ("province", "city", "district", "address")),
        (_("其他"), ("gender", "birthday", "id_number", "credit_code", "tags", "notes")),
    )
    KIND_ONLY = {"gender": "person", "birthday": "person", "id_number": "person",
                 "credit_code": "company",
                 "company_size": "company"}
    WIDE = ("phones", "emails", "address", "notes", "kind")
    VALIDATE_ON_BLUR = ("name", "phones", "emails", "credit_code", "id_number", "birthday")

    def __init__(self, *args: Any, custom_fields: list[CustomField], owners: QuerySet | None = None,
                 masked: bool = False, sensitive_editable: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_fields = custom_fields
        self.masked = masked
        for name in ("name", "kind"):
            self.fields[name].kehu_required = True
        for name, kind in self.KIND_ONLY.items():
            self.fields[name].kehu_kind = kind
        for name in self.WIDE:
            self.fields[name].kehu_wide = True
        for name in self.VALIDATE_ON_BLUR:
            self.fields[name].widget.attrs.update({
                "hx-post": reverse("customers:validate"), "hx-trigger": "blur changed",
                "hx-target": f"#err-{name}", "hx-swap": "outerHTML"})
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].widget = forms.Select(
                choices=[(u.pk, u.label) for u in owners])
        for definition in custom_fields:
            field = self.fields[CUSTOM_FIELD_PREFIX + definition.key] = \
                custom_form_field(definition)
            if definition.sensitive:  # admins only, with a separate consent (services)
                field.help_text = SENSITIVE_HELP
                field.disabled = not sensitive_editable
        for name in ("phones", "emails", "wechat"):  # KEHU_ENCRYPT_FIELDS: say what it means
            if name in self.fields and Customer._meta.get_field(name).encrypted:
                field = self.fields[name]
                field.help_text = " ".join(filter(None, [str(field.help_text or ""),
                                                         str(SEALED_HELP)]))
        if masked:
            # A masked value must never travel back into a save.
            for name in CUSTOMER_SENSITIVE:
                if name in self.fields:
                    self.fields[name].disabled = True

    @property
    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The form's sections, each with the bound fields it shows."""
        return [(title, [self[n] for n in names if n in self.fields])
                for title, names in self.GROUPS]

    @property
    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[CUSTOM_FIELD_PREFIX + f.key] for f in self.custom_fields]

    def service_data(self) -> dict[str, Any]:
        """The cleaned strings in the shape `customer_create` / `customer_update` take."""
        data = self.cleaned_data
        out: dict[str, Any] = {name: data.get(name, "") for name in CUSTOMER_TEXT + CUSTOMER_CHOICE}
        out["birthday"] = data.get("birthday") or None
        out["phones"] = lines(data.get("phones"))
        out["emails"] = lines(data.get("emails"))
        out["tags"] = data.get("tags", "")
        out["custom"] = {f.key: data.get(CUSTOM_FIELD_PREFIX + f.key) for f in self.custom_fields
                         if not self.fields[CUSTOM_FIELD_PREFIX + f.key].disabled}
        if "owner" in self.fields:
            out["owner"] = data.get("owner") or None
        if self.masked:
            for name in CUSTOMER_SENSITIVE:
                out.pop(name, None)
        return out


def service_field(name: str) -> str:
    """A service's error key ("custom.size") as this form's field name ("cf_size")."""
    if name.startswith("custom."):
        return CUSTOM_FIELD_PREFIX + name.removeprefix("custom.")
    return name


def customer_initial(customer) -> dict[str, Any]:
    """The form's starting values from a customer read through a selector."""
    initial = {name: getattr(customer, name) for name in CUSTOMER_TEXT + CUSTOMER_CHOICE}
    initial.update(
        birthday=customer.birthday, emails=joined(customer.emails),
        phones=joined(display_phone(p) for p in customer.phones),
        tags=", ".join(customer.tag_names), version=customer.version,
    )
    for key, value in custom_values_by_key(customer).items():
        initial[CUSTOM_FIELD_PREFIX + key] = _display_number(value)
    return initial


def _display_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


class ContactForm(VersionedForm):
    """A contact at a customer (联系人)."""

    name = forms.CharField(label=_("姓名"), required=False)
    title = forms.CharField(label=_("职务"), required=False)
    decision_role = _select(DecisionRole.choices, _("决策角色"))
    phones = _textarea(_("电话"), inputmode="tel")
    email = forms.CharField(label=_("邮箱"), required=False,
                            widget=forms.TextInput(attrs={"inputmode": "email"}))
    wechat = forms.CharField(label=_("微信"), required=False)
    is_primary = forms.BooleanField(label=_("主联系人"), required=False)
    notes = _textarea(_("备注"))

    def __init__(self, *args: Any, masked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].kehu_required = True
        for name in ("phones", "notes"):
            self.fields[name].kehu_wide = True
        self.masked = masked
        if masked:
            for name in ("phones", "email", "wechat"):
                self.fields[name].disabled = True

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["phones"] = lines(data.get("phones"))
        if self.masked:
            for name in ("phones", "email", "wechat"):
                data.pop(name, None)
        return data


def contact_initial(contact) -> dict[str, Any]:
    names = ("name", "title", "decision_role", "email", "wechat", "is_primary", "notes", "version")
    return {**{n: getattr(contact, n) for n in names},
            "phones": joined(display_phone(p) for p in contact.phones)}


class TransferForm(forms.Form):
    to_user = forms.CharField(label=_("转移给"))
    reason = forms.CharField(label=_("原因"), required=False)


class CustomFieldForm(forms.Form):
    """An admin's definition of a custom field. Options: one per line."""

    key = forms.CharField(label=_("字段键"), required=False,
                          help_text=_("小写字母、数字、下划线，例如 budget；保存后不可修改"))
    label = forms.CharField(label=_("名称"), required=False)
    label_en = forms.CharField(label=_("英文名称"), required=False)
    field_type = forms.CharField(label=_("类型"), required=False,
                                 widget=forms.Select(choices=CustomFieldType.choices))
    choices = _textarea(_("选项"), rows=4)
    required = forms.BooleanField(label=_("必填"), required=False)
    show_in_list = forms.BooleanField(label=_("列表显示"), required=False)
    sensitive = forms.BooleanField(
        label=_("敏感个人信息"), required=False,
        help_text=_("个保法第 28 条：健康、金融账户、宗教信仰、行踪轨迹等。仅管理员可见可填（其他人"
                    "看到＊＊＊＊，可凭理由查看一项并记入审计），填写需客户的单独同意，不能筛选或导入"))
    position = forms.IntegerField(label=_("排序"), required=False, initial=0)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["choices"].help_text = _("单选、多选字段：每行一个选项")
        for name in ("key", "label", "field_type"):
            self.fields[name].kehu_required = True
        if editing:
            # Saved filters and imports refer to the key; renaming it would break them.
            self.fields["key"].disabled = True

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["choices"] = lines(data.get("choices"))
        data["position"] = data.get("position") or 0
        if self.fields["key"].disabled:
            data.pop("key", None)
        return data


def custom_field_initial(field: CustomField) -> dict[str, Any]:
    names = ("key", "label", "label_en", "field_type", "required", "show_in_list", "sensitive",
             "position", "is_active")
    return {**{n: getattr(field, n) for n in names}, "choices": joined(field.choices)}
