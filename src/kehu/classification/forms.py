"""Forms of the classification settings screens. They only carry what was typed: every value
is checked once, by the services' cleaners, whose errors come back next to these fields."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.classification.models import Dimension, DimensionValue, Rule


class DimensionForm(forms.Form):
    """A new dimension (name, English name, key), or a rename (no key: it is fixed)."""

    name = forms.CharField(label=_("名称"), required=False)
    name_en = forms.CharField(label=_("英文名称"), required=False)
    key = forms.CharField(label=_("键"), required=False, help_text=_(
        "小写字母、数字和下划线，条件和 API 用它指代这个维度；留空则由英文名称或拼音生成。创建后不能修改。"))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, rename: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].kehu_required = True
        if rename:
            del self.fields["key"]

    def data_for_service(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class ValueForm(forms.Form):
    """A value's row in the dimension's table (or the "add a value" row): its inputs sit in
    other cells than the <form> element, tied to it by the `form` attribute."""

    label = forms.CharField(label=_("名称"), required=False)
    label_en = forms.CharField(label=_("英文名称"), required=False)
    color = forms.CharField(label=_("颜色"), required=False,
                            widget=forms.TextInput(attrs={"type": "color"}))
    key = forms.CharField(label=_("键"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, form_id: str, new: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", form_id)  # a row per value on one page: ids stay unique
        super().__init__(*args, **kwargs)
        self.form_id, self.new = form_id, new
        self.fields["label_en"].widget.attrs["placeholder"] = _("英文名称")
        if not new:
            del self.fields["key"]
        else:
            self.fields["key"].widget.attrs["placeholder"] = _("留空自动生成")
            self.initial.setdefault("color", "#64748b")
        for field in self.fields.values():
            field.widget.attrs["form"] = form_id

    def data_for_service(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


def value_form(value: DimensionValue, data: Any = None) -> ValueForm:
    return ValueForm(data, form_id=f"value-{value.pk}", initial={
        "label": value.label, "label_en": value.label_en, "color": value.color,
        "version": value.version})


class _RuleFields(forms.Form):
    """What every rule has: its name, where it stands, its condition (the JSON the hosted
    filter builder writes into the hidden `condition`), a note, whether it runs."""

    name = forms.CharField(label=_("规则名称"), required=False)
    priority = forms.CharField(label=_("优先级"), required=False, help_text=_(
        "数字小的先判断；第一条符合的规则决定客户的值。"), widget=forms.NumberInput(
        attrs={"step": 1, "inputmode": "numeric", "class": "num-input"}))
    condition = forms.CharField(required=False, widget=forms.HiddenInput(
        attrs={"id": "rule-condition"}))
    description = forms.CharField(label=_("说明"), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def _common(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        if data.get("priority") in ("", None):
            data["priority"] = self.initial.get("priority", 100)
        return data

    @property
    def initial_condition(self) -> Any:
        """The condition the builder starts from: what was posted, else the rule's own."""
        raw = self.data.get("condition") if self.is_bound else self.initial.get("condition")
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None


def _initial_of(rule: Rule) -> dict[str, Any]:
    return {"name": rule.name, "priority": rule.priority,
            "condition": json.dumps(rule.condition, ensure_ascii=False) if rule.condition else "",
            "description": rule.description, "is_active": rule.is_active,
            "version": rule.version}


class RuleForm(_RuleFields):
    """A rule of a dimension: its name, the value it sets, where it stands, and its condition."""

    value = forms.CharField(label=_("设为"), required=False, widget=forms.Select)
    field_order = ["name", "value", "priority", "condition", "description", "is_active"]

    def __init__(self, *args: Any, dimension: Dimension, rule: Rule | None = None,
                 **kwargs: Any) -> None:
        if rule is not None:
            kwargs.setdefault("initial", {**_initial_of(rule), "value": rule.value_id})
        else:
            kwargs.setdefault("initial", {"is_active": True, "priority": _next_priority(dimension)})
        super().__init__(*args, **kwargs)
        self.fields["name"].kehu_required = True
        self.fields["value"].kehu_required = True
        # The dimension's active values, and the rule's own even if deactivated since.
        values = [v for v in dimension.values.order_by("position", "id")
                  if v.is_active or (rule is not None and v.pk == rule.value_id)]
        self.fields["value"].widget.choices = [("", "—")] + [(str(v.pk), v.label) for v in values]
        self.dimension = dimension

    def data_for_service(self) -> dict[str, Any]:
        data = self._common()
        chosen = data.get("value")
        # A value of another dimension is no value here: the service says "请选择要设为的值".
        data["value"] = chosen if chosen and self.dimension.values.filter(pk=chosen).exists() \
            else None
        return data


class TagRuleForm(_RuleFields):
    """A rule that adds or removes a tag: the tag typed by name (the page offers the existing
    ones in a <datalist>; a new name is created on save), the action, and the rest."""

    tag = forms.CharField(label=_("标签"), required=False, widget=forms.TextInput(
        attrs={"list": "tag-names", "autocomplete": "off", "maxlength": 50}))
    tag_action = forms.CharField(label=_("动作"), required=False, widget=forms.Select(
        choices=Rule.TAG_ACTIONS))
    field_order = ["name", "tag", "tag_action", "priority", "condition", "description",
                   "is_active"]

    def __init__(self, *args: Any, rule: Rule | None = None, tag: str = "",
                 **kwargs: Any) -> None:
        if rule is not None:
            kwargs.setdefault("initial", {**_initial_of(rule), "tag": rule.tag.name,
                                          "tag_action": rule.tag_action})
        else:
            kwargs.setdefault("initial", {"is_active": True, "tag": tag, "tag_action": Rule.ADD,
                                          "priority": _next_tag_priority(tag)})
        super().__init__(*args, **kwargs)
        self.fields["name"].kehu_required = True
        self.fields["tag"].kehu_required = True
        self.fields["priority"].help_text = _(
            "同一个标签的规则里，数字小的先判断；第一条符合的规则决定添加还是移除。")

    def data_for_service(self) -> dict[str, Any]:
        data = self._common()
        # No action at all would read as a dimension's rule: the service names it instead.
        data["tag_action"] = data.get("tag_action") or "?"
        return data


def _next_tag_priority(tag: str) -> int:
    """A new tag rule goes after the last rule of its tag (of any tag when none is named)."""
    rules = Rule.objects.filter(tag__isnull=False)
    if tag:
        rules = rules.filter(tag__name=tag)
    last = rules.order_by("-priority").values_list("priority", flat=True).first()
    return (last // 10 + 1) * 10 if last is not None else 10


def _next_priority(dimension: Dimension) -> int:
    """Where a new rule starts: just before the dimension's catch-all rule (no condition: it
    would take every customer first), else after the last rule, in steps of ten."""
    rules = list(Rule.objects.filter(value__dimension=dimension, is_active=True)
                 .order_by("priority", "id").values_list("priority", "condition"))
    catch = next((i for i, (_p, condition) in enumerate(rules) if not condition), None)
    if catch is None:
        return (rules[-1][0] // 10 + 1) * 10 if rules else 10
    before = rules[catch - 1][0] if catch else rules[catch][0] - 10
    return (before + rules[catch][0]) // 2 if rules[catch][0] - before >= 2 else rules[catch][0]
