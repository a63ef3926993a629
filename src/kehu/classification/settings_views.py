"""Classification in the settings area (设置 → 客户分类): dimensions, their values and the
rules that set them, and the rules that add or remove a tag (标签规则; admins only). Laid
out like the pipeline screens (history/pipeline_views.py).

Thin like every view: the services (`settings_services.py`, and `services.rule_save` /
`rule_delete` for rules) check and write; their ValidationError comes back next to the field
it names, a refused button (deleting a value still in use) as a message on the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.accounts.policy import require_admin
from kehu.classification import selectors
from kehu.classification import settings_services as settings
from kehu.classification.forms import (
    DimensionForm,
    ValueForm,
    value_form,
)
from kehu.classification.models import Dimension, DimensionValue
from kehu.core.errors import ValidationError
from kehu.core.models import Origin
from kehu.core.views import flash_errors, redirect, save_form, web_view

WEB = Origin.MANUAL


ADMINS_ONLY = gettext_lazy("只有管理员可以配置客户分类")


def dimension_url(pk: int, anchor: str = "") -> str:
    return reverse("classification:dimension", args=[pk]) + (f"#{anchor}" if anchor else "")


# --- dimensions --------------------------------------------------------------------------


@web_view
def dimension_list(request: HttpRequest) -> HttpResponse:
    """Every dimension with its values; the form at the bottom adds one (POST here)."""
    require_admin(request.user, ADMINS_ONLY)
    form = DimensionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        dimension = save_form(form, lambda: settings.dimension_save(
            actor=request.user, origin=WEB, data=form.data_for_service()))
        if dimension is not None:
            messages.success(request, _("已添加分类维度 %(name)s，现在给它加上值。")
                             % {"name": dimension.name})
            return redirect(dimension_url(dimension.pk))
    dimensions = selectors.dimensions_configured(viewer=request.user)
    focus = focus_of(request, [d.pk for d in dimensions])
    return render(request, "classification/settings/dimensions.html",
                  {"rows": [{"dimension": d, "focus": focus.get(d.pk, "")} for d in dimensions],
                   "form": form}, status=400 if form.errors else 200)


@web_view
def dimension_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A dimension's values and rules; POST renames it."""
    require_admin(request.user, ADMINS_ONLY)
    dimension = get_object_or_404(Dimension, pk=pk)
    rename = DimensionForm(request.POST or None, rename=True, initial={
        "name": dimension.name, "name_en": dimension.name_en, "version": dimension.version})
    if request.method == "POST" and rename.is_valid():
        saved = save_form(rename, lambda: settings.dimension_save(
            actor=request.user, origin=WEB, dimension=dimension,
            data=rename.data_for_service(), version=rename.cleaned_data["version"]))
        if saved is not None:
            messages.success(request, _("已保存"))
            return redirect(dimension_url(pk))
    return _dimension_page(request, dimension, rename=rename)


def _dimension_page(request: HttpRequest, dimension: Dimension, *,
                    rename: DimensionForm | None = None, adding: ValueForm | None = None,
                    editing: ValueForm | None = None) -> HttpResponse:
    """The dimension's page; a form that failed comes back bound, with its errors (400)."""
    found = selectors.dimension_settings(viewer=request.user, dimension=dimension)
    values, rules = found["values"], found["rules"]
    value_focus = focus_of(request, [v.pk for v in values], "value")
    rule_focus = focus_of(request, [r.pk for r in rules], "rule")
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


def focus_of(request: HttpRequest, ids: list[int], kind: str = "dimension") -> dict[int, str]:
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


def moved_to(url: str, kind: str, pk: int, direction: str) -> HttpResponse:
    # No #fragment: the browser skips autofocus on a page opened at one.
    return redirect(f"{url}?moved={kind}:{pk}-{direction}")


@require_POST
@web_view
def dimension_move(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    dimension = get_object_or_404(Dimension, pk=pk)
    direction = request.POST.get("direction", "")
    settings.dimension_move(actor=request.user, origin=WEB, dimension=dimension,
                            direction=direction)
    return moved_to(reverse("classification:dimensions"), "dimension", pk, direction)


@require_POST
@web_view
def dimension_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (its rules stop, the card no longer shows it) or activate again."""
    require_admin(request.user, ADMINS_ONLY)
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
    return redirect(dimension_url(pk))


# --- values ------------------------------------------------------------------------------


@require_POST
@web_view
def value_create(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    dimension = get_object_or_404(Dimension, pk=pk)
    form = ValueForm(request.POST, form_id="value-new", new=True)
    if form.is_valid():
        value = save_form(form, lambda: settings.value_save(
            actor=request.user, origin=WEB, dimension=dimension, data=form.data_for_service()))
        if value is not None:
            messages.success(request, _("已添加值 %(label)s") % {"label": value.label})
            return redirect(dimension_url(pk, f"value-{value.pk}"))
    return _dimension_page(request, dimension, adding=form)


@require_POST
@web_view
def value_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One row of the values' table: label, English label, colour."""
    require_admin(request.user, ADMINS_ONLY)
    value = get_object_or_404(DimensionValue.objects.select_related("dimension"), pk=pk)
    form = value_form(value, request.POST)
    if form.is_valid():
        saved = save_form(form, lambda: settings.value_save(
            actor=request.user, origin=WEB, value=value, data=form.data_for_service(),
            version=form.cleaned_data["version"]))
        if saved is not None:
            messages.success(request, _("已保存值 %(label)s") % {"label": saved.label})
            return redirect(dimension_url(value.dimension_id, f"value-{pk}"))
    return _dimension_page(request, value.dimension, editing=form)


@require_POST
@web_view
def value_move(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    value = get_object_or_404(DimensionValue, pk=pk)
    direction = request.POST.get("direction", "")
    settings.value_move(actor=request.user, origin=WEB, value=value, direction=direction)
    return moved_to(dimension_url(value.dimension_id), "value", pk, direction)


@require_POST
@web_view
def value_active(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
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
    return redirect(dimension_url(value.dimension_id, f"value-{pk}"))


@require_POST
@web_view
def value_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    value = get_object_or_404(DimensionValue, pk=pk)
    try:
        settings.value_delete(actor=request.user, origin=WEB, value=value)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已删除值 %(label)s") % {"label": value.label})
    return redirect(dimension_url(value.dimension_id))
