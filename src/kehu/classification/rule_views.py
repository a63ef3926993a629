"""Rules in the settings area (设置 → 客户分类): a dimension's rules and the tag rules
(标签规则), each with the list's filter builder and a live preview (admins only). The
dimensions and values are in settings_views.py, whose helpers these pages share.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import require_admin
from kehu.accounts.selectors import users_in_scope
from kehu.classification import selectors, services
from kehu.classification import settings_services as settings
from kehu.classification.forms import RuleForm, TagRuleForm
from kehu.classification.models import Dimension, Rule
from kehu.classification.previews import rule_preview
from kehu.classification.settings_views import (
    ADMINS_ONLY,
    WEB,
    dimension_url,
    focus_of,
    moved_to,
)
from kehu.core.errors import ValidationError, VersionConflict
from kehu.core.inputs import parse_id
from kehu.core.views import attach_errors, flash_errors, redirect, save_form, web_view
from kehu.customers.builder import builder_data
from kehu.customers.selectors import tags_in_scope

# --- rules -------------------------------------------------------------------------------


def _rules_url(rule: Rule, anchor: str = "") -> str:
    """Where a rule is listed: its dimension's page, or the tag rules' page."""
    if rule.tag_id is not None:
        return reverse("classification:tag_rules") + (f"#{anchor}" if anchor else "")
    return dimension_url(rule.value.dimension_id, anchor)


def _rule_form(data: Any, *, rule: Rule | None,
               dimension: Dimension | None = None) -> RuleForm | TagRuleForm:
    """The form of the rule's kind: a tag's (no dimension), or a dimension's."""
    if (rule is not None and rule.tag_id is not None) or (rule is None and dimension is None):
        return TagRuleForm(data, rule=rule)
    return RuleForm(data, dimension=dimension or rule.value.dimension, rule=rule)


@web_view
def rule_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new rule of the dimension: the form, the condition builder, the preview."""
    require_admin(request.user, ADMINS_ONLY)
    dimension = get_object_or_404(Dimension, pk=pk)
    form = RuleForm(request.POST or None, dimension=dimension)
    if request.method == "POST" and form.is_valid():
        rule = save_form(form, lambda: services.rule_save(
            actor=request.user, origin=WEB, data=form.data_for_service()))
        if rule is not None:
            messages.success(request, _("已保存规则 %(name)s；客户分类正在后台重新运行。")
                             % {"name": rule.name})
            return redirect(dimension_url(pk, f"rule-{rule.pk}"))
    return _rule_page(request, form, None, dimension)


@web_view
def tag_rules(request: HttpRequest) -> HttpResponse:
    """The rules that add or remove a tag, a decision list per tag (设置 → 客户分类 → 标签规则)."""
    require_admin(request.user, ADMINS_ONLY)
    groups = selectors.tag_rules_configured(viewer=request.user)
    for group in groups:
        focus = focus_of(request, [r.pk for r in group["rules"]], "rule")
        group["rows"] = [{"rule": r, "focus": focus.get(r.pk, "")} for r in group["rules"]]
    return render(request, "classification/settings/tag_rules.html", {"groups": groups})


@web_view
def tag_rule_create(request: HttpRequest) -> HttpResponse:
    """A new tag rule (`?tag=` names the tag whose list it joins)."""
    require_admin(request.user, ADMINS_ONLY)
    form = TagRuleForm(request.POST or None, tag=request.GET.get("tag", "").strip()[:50])
    if request.method == "POST" and form.is_valid():
        rule = save_form(form, lambda: services.rule_save(
            actor=request.user, origin=WEB, data=form.data_for_service()))
        if rule is not None:
            messages.success(request, _("已保存规则 %(name)s；客户分类正在后台重新运行。")
                             % {"name": rule.name})
            return redirect(_rules_url(rule, f"rule-{rule.pk}"))
    return _rule_page(request, form, None)


@web_view
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    rule = get_object_or_404(Rule.objects.select_related("value__dimension", "tag"), pk=pk)
    form = _rule_form(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        saved = save_form(form, lambda: services.rule_save(
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
                           tags=tags, offer_me=False)
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
    require_admin(request.user, ADMINS_ONLY)
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
            attach_errors(form, exc)
    return render(request, "classification/settings/preview.html", context)


@require_POST
@web_view
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    """One place up or down in its dimension's list, or its tag's."""
    require_admin(request.user, ADMINS_ONLY)
    rule = get_object_or_404(Rule.objects.select_related("value"), pk=pk)
    direction = request.POST.get("direction", "")
    settings.rule_move(actor=request.user, origin=WEB, rule=rule, direction=direction)
    return moved_to(_rules_url(rule), "rule", pk, direction)


@require_POST
@web_view
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    rule = get_object_or_404(Rule.objects.select_related("value"), pk=pk)
    try:
        services.rule_delete(actor=request.user, origin=WEB, rule=rule)
    except VersionConflict as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已删除规则 %(name)s；客户分类正在后台重新运行。")
                         % {"name": rule.name})
    return redirect(_rules_url(rule))
