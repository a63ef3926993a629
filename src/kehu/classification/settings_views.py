"""Classification in the settings area (设置 → 客户分类): dimensions, their values and the
rules that set them, and the rules that add or remove a tag (标签规则; admins only). Laid
out like the pipeline screens (history/pipeline_views.py).

Thin like every view: the services (`settings_services.py`, and `services.rule_save` /
`rule_delete` for rules) check and write; their ValidationError comes back next to the field
it names, a refused button (deleting a value still in use) as a message on the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.accounts.selectors import users_in_scope
from kehu.classification import selectors, services
from kehu.classification import settings_services as settings
from kehu.classification.forms import (
    DimensionForm,
    RuleForm,
    TagRuleForm,
    ValueForm,
    value_form,
)
from kehu.classification.models import Dimension, DimensionValue, Rule
from kehu.classification.previews import rule_preview
from kehu.core.errors import PermissionDenied, ValidationError, VersionConflict
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.core.views import conflict_message, flash_errors, redirect, web_view
from kehu.customers.builder import builder_data
from kehu.customers.selectors import tags_in_scope

WEB = Origin.MANUAL


def _require_admin(request: HttpRequest) -> None:
    if not access_for(request.user).is_admin:
        raise PermissionDenied(_("只有管理员可以配置客户分类"))


def _dimension_url(pk: int, anchor: str = "") -> str:
    return reverse("classification:dimension", args=[pk]) + (f"#{anchor}" if anchor else "")


def _save(form: Any, write: Any) -> Any:
    """Call the service; its errors go next to the form's fields (None when refused)."""
    try:
        return write()
    except ValidationError as exc:
        _attach(form, exc)
    except VersionConflict:
        form.add_error(None, conflict_message())
    return None


PARTS = {"field": _lazy("字段"), "op": _lazy("比较"), "value": _lazy("值")}


def _attach(form: Any, error: ValidationError) -> None:
    """A service's errors next to the form's fields; a condition's by the builder's row they
    name ("condition.all.1.value" → 条件：第 2 条的值：必填)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, items in error.error_dict.items():
        said = [str(m) for item in items for m in item.messages]
        if name.startswith("condition."):
            path = name.split(".")
            if len(path) == 4 and path[2].isdigit() and path[3] in PARTS:
                row = _("第 %(n)d 条的%(part)s") % {"n": int(path[2]) + 1, "part": PARTS[path[3]]}
                said = [f"{row}：{m}" for m in said]
            name = "condition"
        form.add_error(name if name in form.fields else None, said)


# --- dimensions --------------------------------------------------------------------------


@web_view
def dimension_list(request: HttpRequest) -> HttpResponse:
    """Every dimension with its values; the form at the bottom adds one (POST here)."""
    _require_admin(request)
    form = DimensionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        dimension = _save(form, lambda: settings.dimension_save(
            actor=request.user, origin=WEB, data=form.data_for_service()))
        if dimension is not None:
            messages.success(request, _("已添加分类维度 %(name)s，现在给它加上值。")
                             % {"name": dimension.name})
            return redirect(_dimension_url(dimension.pk))
    dimensions = selectors.dimensions_configured(viewer=request.user)
    focus = _focus(request, [d.pk for d in dimensions])
    return render(request, "classification/settings/dimensions.html",
                  {"rows": [{"dimension": d, "focus": focus.get(d.pk, "")} for d in dimensions],
                   "form": form}, status=400 if form.errors else 200)


@web_view
def dimension_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A dimension's values and rules; POST renames it."""
    _require_admin(request)
    dimension = get_object_or_404(Dimension, pk=pk)
    rename = DimensionForm(request.POST or None, rename=True, initial={
        "name": dimension.name, "name_en": dimension.name_en, "version": dimension.version})
    if request.method == "POST" and rename.is_valid():
        saved = _save(rename, lambda: settings.dimension_save(
            actor=request.user, origin=WEB, dimension=dimension,
            data=rename.data_for_service(), version=rename.cleaned_data["version"]))
        if saved is not None:
            messages.success(request, _("已保存"))
            return redirect(_dimension_url(pk))
    return _dimension_page(request, dimension, rename=rename)


def _dimension_page(request: HttpRequest, dimension: Dimension, *,
                    rename: DimensionForm | None = None, adding: ValueForm | None = None,
                    editing: ValueForm | None = None) -> HttpResponse:
    """The dimension's page; a form that failed comes back bound, with its errors (400)."""
    found = selectors.dimension_settings(viewer=request.user, dimension=dimension)
    values, rules = found["values"], found["rules"]
    value_focus = _focus(request, [v.pk for v in values], "value")
    rule_focus = _focus(request, [r.pk for r in rules], "rule")
    rows = [{"value": v, "focus": value_focus.get(v.pk, ""),
             "form": editing if editing is not None and editing.form_id == f"value-{v.pk}"
             else value_form(v)} for v in values]
    failed = any(form is not None and form.errors for form in (rename, adding, editing))
    context = {
        "dimension": dimension, "rows": rows,
        "rules": [{"rule": r, "focus": rule_focus.get(r.pk, "")} for r in rules],
        "rename": rename or DimensionForm(rename=True, initial={
            "name": dimension.name, "name_en": dimension.name_en, "version": dimension.version}),
        "adding": adding or ValueForm(form_id="value-new", new=True),
    }
    return render(request, "classification/settings/dimension.html", context,
                  status=400 if failed else 200)


def _focus(request: HttpRequest, ids: list[int], kind: str = "dimension") -> dict[int, str]:
    """After an up/down move the same button keeps the focus, so the keyboard can go on; at the
    top (or bottom) that button is disabled and the other one takes it."""
    moved, _sep, direction = request.GET.get("moved", "").partition("-")
    which, _sep, raw = moved.partition(":")
    if which != kind or not raw.isdigit() or int(raw) not in ids or direction not in ("up", "down"):
        return {}
    index = ids.index(int(raw))
    if len(ids) == 1:
        return {}
    if direction == "up" and index == 0:
        direction = "down"
    elif direction == "down" and index == len(ids) - 1:
        direction = "up"
    return {int(raw): direction}


def _moved(url: str, kind: str, pk: int, direction: str) -> HttpResponse:
    # No #fragment: the browser skips autofocus on a page opened at one.
    return redirect(f"{url}?moved={kind}:{pk}-{direction}")


@require_POST
@web_view
def dimension_move(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    dimension = get_object_or_404(Dimension, pk=pk)
    direction = request.POST.get("direction", "")
    settings.dimension_move(actor=request.user, origin=WEB, dimension=dimension,
                            direction=direction)
    return _moved(reverse("classification:dimensions"), "dimension", pk, direction)


@require_POST
@web_view
def dimension_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (its rules stop, the card no longer shows it) or activate again."""
    _require_admin(request)
    dimension = get_object_or_404(Dimension, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        settings.dimension_save(actor=request.user, origin=WEB, dimension=dimension,
                                data={"is_active": active})
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, (_("已启用 %(name)s") if active else
                                   _("已停用 %(name)s：它的规则不再运行，卡片上也不再显示。"))
                         % {"name": dimension.name})
    return redirect(_dimension_url(pk))


# --- values ------------------------------------------------------------------------------


@require_POST
@web_view
def value_create(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    dimension = get_object_or_404(Dimension, pk=pk)
    form = ValueForm(request.POST, form_id="value-new", new=True)
    if form.is_valid():
        value = _save(form, lambda: settings.value_save(
            actor=request.user, origin=WEB, dimension=dimension, data=form.data_for_service()))
        if value is not None:
            messages.success(request, _("已添加值 %(label)s") % {"label": value.label})
            return redirect(_dimension_url(pk, f"value-{value.pk}"))
    return _dimension_page(request, dimension, adding=form)


@require_POST
@web_view
def value_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One row of the values' table: label, English label, colour."""
    _require_admin(request)
    value = get_object_or_404(DimensionValue.objects.select_related("dimension"), pk=pk)
    form = value_form(value, request.POST)
    if form.is_valid():
        saved = _save(form, lambda: settings.value_save(
            actor=request.user, origin=WEB, value=value, data=form.data_for_service(),
            version=form.cleaned_data["version"]))
        if saved is not None:
            messages.success(request, _("已保存值 %(label)s") % {"label": saved.label})
            return redirect(_dimension_url(value.dimension_id, f"value-{pk}"))
    return _dimension_page(request, value.dimension, editing=form)


@require_POST
@web_view
def value_move(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    value = get_object_or_404(DimensionValue, pk=pk)
    direction = request.POST.get("direction", "")
    settings.value_move(actor=request.user, origin=WEB, value=value, direction=direction)
    return _moved(_dimension_url(value.dimension_id), "value", pk, direction)


@require_POST
@web_view
def value_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    value = get_object_or_404(DimensionValue, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        settings.value_save(actor=request.user, origin=WEB, value=value,
                            data={"is_active": active})
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, (_("已启用 %(label)s") if active else _("已停用 %(label)s"))
                         % {"label": value.label})
    return redirect(_dimension_url(value.dimension_id, f"value-{pk}"))


@require_POST
@web_view
def value_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    value = get_object_or_404(DimensionValue, pk=pk)
    try:
        settings.value_delete(actor=request.user, origin=WEB, value=value)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已删除值 %(label)s") % {"label": value.label})
    return redirect(_dimension_url(value.dimension_id))


# --- rules -------------------------------------------------------------------------------


def _rules_url(rule: Rule, anchor: str = "") -> str:
    """Where a rule is listed: its dimension's page, or the tag rules' page."""
    if rule.tag_id is not None:
        return reverse("classification:tag_rules") + (f"#{anchor}" if anchor else "")
    return _dimension_url(rule.value.dimension_id, anchor)


def _rule_form(data: Any, *, rule: Rule | None,
               dimension: Dimension | None = None) -> RuleForm | TagRuleForm:
    """The form of the rule's kind: a tag's (no dimension), or a dimension's."""
    if (rule is not None and rule.tag_id is not None) or (rule is None and dimension is None):
        return TagRuleForm(data, rule=rule)
    return RuleForm(data, dimension=dimension or rule.value.dimension, rule=rule)


@web_view
def rule_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new rule of the dimension: the form, the condition builder, the preview."""
    _require_admin(request)
    dimension = get_object_or_404(Dimension, pk=pk)
    form = RuleForm(request.POST or None, dimension=dimension)
    if request.method == "POST" and form.is_valid():
        rule = _save(form, lambda: services.rule_save(
            actor=request.user, origin=WEB, data=form.data_for_service()))
        if rule is not None:
            messages.success(request, _("已保存规则 %(name)s；客户分类正在后台重新运行。")
                             % {"name": rule.name})
            return redirect(_dimension_url(pk, f"rule-{rule.pk}"))
    return _rule_page(request, form, None, dimension)


@web_view
def tag_rules(request: HttpRequest) -> HttpResponse:
    """The rules that add or remove a tag, a decision list per tag (设置 → 客户分类 → 标签规则)."""
    _require_admin(request)
    groups = selectors.tag_rules_configured(viewer=request.user)
    for group in groups:
        focus = _focus(request, [r.pk for r in group["rules"]], "rule")
        group["rows"] = [{"rule": r, "focus": focus.get(r.pk, "")} for r in group["rules"]]
    return render(request, "classification/settings/tag_rules.html", {"groups": groups})


@web_view
def tag_rule_create(request: HttpRequest) -> HttpResponse:
    """A new tag rule (`?tag=` names the tag whose list it joins)."""
    _require_admin(request)
    form = TagRuleForm(request.POST or None, tag=request.GET.get("tag", "").strip()[:50])
    if request.method == "POST" and form.is_valid():
        rule = _save(form, lambda: services.rule_save(
            actor=request.user, origin=WEB, data=form.data_for_service()))
        if rule is not None:
            messages.success(request, _("已保存规则 %(name)s；客户分类正在后台重新运行。")
                             % {"name": rule.name})
            return redirect(_rules_url(rule, f"rule-{rule.pk}"))
    return _rule_page(request, form, None)


@web_view
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    rule = get_object_or_404(Rule.objects.select_related("value__dimension", "tag"), pk=pk)
    form = _rule_form(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        saved = _save(form, lambda: services.rule_save(
            actor=request.user, origin=WEB, rule=rule, data=form.data_for_service(),
            version=form.cleaned_data["version"]))
        if saved is not None:
            messages.success(request, _("已保存规则 %(name)s；客户分类正在后台重新运行。")
                             % {"name": saved.name})
            return redirect(_rules_url(rule, f"rule-{pk}"))
    return _rule_page(request, form, rule, rule.value.dimension if rule.value_id else None)


def _rule_page(request: HttpRequest, form: RuleForm | TagRuleForm, rule: Rule | None,
               dimension: Dimension | None = None) -> HttpResponse:
    """A dimension's rule (rule.html) or a tag rule (tag_rule.html, which offers the
    existing tags by name)."""
    tags = tags_in_scope(viewer=request.user)
    builder = builder_data(initial=form.initial_condition, owners=users_in_scope(request.user),
                           tags=tags)
    template = "classification/settings/rule.html" if dimension is not None else \
        "classification/settings/tag_rule.html"
    return render(request, template, {"dimension": dimension, "form": form, "rule": rule,
                                      "builder": builder, "tag_names": tags},
                  status=400 if form.errors else 200)


@require_POST
@web_view
def rule_preview_partial(request: HttpRequest) -> HttpResponse:
    """What saving the draft would change, among the customers the admin may see: a partial
    for the rule's page (errors included, so the page shows them where the preview goes).
    A draft of a tag rule says `kind=tag` (or edits a tag rule); others name their dimension."""
    _require_admin(request)
    rule_id = parse_id(request.POST.get("rule"), field="rule", required=False)
    rule = get_object_or_404(Rule.objects.select_related("value__dimension", "tag"),
                             pk=rule_id) if rule_id else None
    if rule is None and request.POST.get("kind") == "tag":
        form: RuleForm | TagRuleForm = TagRuleForm(request.POST)
    else:
        dimension = None if rule else get_object_or_404(
            Dimension, pk=parse_id(request.POST.get("dimension"), field="dimension"))
        form = _rule_form(request.POST, rule=rule, dimension=dimension)
    context: dict[str, Any] = {"form": form, "is_tag": isinstance(form, TagRuleForm)}
    if form.is_valid():
        data = {**form.data_for_service(), "rule": rule.pk if rule else None}
        try:
            context["preview"] = rule_preview(viewer=request.user, data=data)
        except ValidationError as exc:
            _attach(form, exc)
    return render(request, "classification/settings/preview.html", context)


@require_POST
@web_view
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    """One place up or down in its dimension's list, or its tag's."""
    _require_admin(request)
    rule = get_object_or_404(Rule.objects.select_related("value"), pk=pk)
    direction = request.POST.get("direction", "")
    settings.rule_move(actor=request.user, origin=WEB, rule=rule, direction=direction)
    return _moved(_rules_url(rule), "rule", pk, direction)


@require_POST
@web_view
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    rule = get_object_or_404(Rule.objects.select_related("value"), pk=pk)
    try:
        services.rule_delete(actor=request.user, origin=WEB, rule=rule)
    except VersionConflict as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已删除规则 %(name)s；客户分类正在后台重新运行。")
                         % {"name": rule.name})
    return redirect(_rules_url(rule))
