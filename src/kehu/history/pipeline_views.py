"""Pipelines, their stages and win probabilities: the settings area's screens (admins only).

Thin like every view: the services (`history/opportunities.py`) check and write, their
ValidationError comes back next to the field it names; a refused button (deleting a stage
that holds deals) comes back as a message on the pipeline's page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.errors import Http404, ValidationError
from kehu.core.models import Origin
from kehu.core.views import attach_errors, press_button, redirect, web_view
from kehu.history import opportunities as services
from kehu.history import selectors
from kehu.history.forms import PipelineForm, StageForm
from kehu.history.models import Pipeline, Stage

WEB = Origin.MANUAL


def _pipeline_url(pipeline_id: int, anchor: str = "") -> str:
    return reverse("history:pipeline", args=[pipeline_id]) + (f"#{anchor}" if anchor else "")


@web_view
def pipeline_list(request: HttpRequest) -> HttpResponse:
    """Every pipeline; the form at the bottom creates one (POST here)."""
    services.require_catalogue(request.user)
    form = PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.pipeline_save(actor=request.user, origin=WEB,
                                              data=form.data_for_service())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("已创建销售流程 %(name)s，现在给它加上阶段。")
                             % {"name": pipeline.name})
            return redirect(_pipeline_url(pipeline.pk))
    return render(request, "history/settings/pipelines.html",
                  {"pipelines": selectors.pipelines_configured(viewer=request.user), "form": form},
                  status=400 if form.errors else 200)


@web_view
def pipeline_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A pipeline's stages in order; POST renames the pipeline."""
    services.require_catalogue(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    rename = PipelineForm(request.POST or None, rename=True, initial={"name": pipeline.name})
    if request.method == "POST" and rename.is_valid():
        try:
            services.pipeline_save(actor=request.user, origin=WEB, pipeline=pipeline,
                                   data=rename.data_for_service())
        except ValidationError as exc:
            attach_errors(rename, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect(_pipeline_url(pk))
    return _pipeline_page(request, pk, rename=rename)


def _pipeline_page(request: HttpRequest, pk: int, *, rename: PipelineForm | None = None,
                   adding: StageForm | None = None, editing: StageForm | None = None,
                   ) -> HttpResponse:
    """The pipeline's page; a form that failed comes back bound, with its errors (status 400)."""
    pipeline = next((p for p in selectors.pipelines_configured(viewer=request.user) if p.pk == pk),
                    None)
    if pipeline is None:
        raise Http404
    stages = list(pipeline.stages.all())
    rows = [{"stage": stage, "focus": _focus(request, stages, index),
             "form": editing if editing is not None and editing.form_id == _row_id(stage.pk)
             else _stage_form(stage)} for index, stage in enumerate(stages)]
    failed = any(form is not None and form.errors for form in (rename, adding, editing))
    context = {
        "pipeline": pipeline, "rows": rows,
        "rename": rename or PipelineForm(rename=True, initial={"name": pipeline.name}),
        "adding": adding or StageForm(form_id="stage-new", new=True),
    }
    return render(request, "history/settings/pipeline.html", context, status=400 if failed else 200)


def _row_id(stage_id: int) -> str:
    return f"stage-{stage_id}"


def _stage_form(stage: Stage, data: Any = None) -> StageForm:
    return StageForm(data, form_id=_row_id(stage.pk), initial={
        "name": stage.name, "probability": stage.probability, "kind": stage.kind})


def _focus(request: HttpRequest, stages: list[Stage], index: int) -> str:
    """After an up/down move the same button keeps the focus, so the keyboard can go on; at the
    top (or bottom) that button is disabled and the other one takes it."""
    stage_id, _sep, direction = request.GET.get("moved", "").partition("-")
    if stage_id != str(stages[index].pk) or direction not in ("up", "down"):
        return ""
    if direction == "up" and index == 0:
        return "down" if len(stages) > 1 else ""
    if direction == "down" and index == len(stages) - 1:
        return "up" if len(stages) > 1 else ""
    return direction


@require_POST
@web_view
def pipeline_default(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_catalogue(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    services.pipeline_save(actor=request.user, origin=WEB, pipeline=pipeline,
                           data={"is_default": True})
    messages.success(request, _("%(name)s 现在是默认流程：新商机默认进入它。") % {"name": pipeline.name})
    return redirect(reverse("history:pipelines"))


@require_POST
@web_view
def pipeline_remove(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_catalogue(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    return press_button(request, lambda: services.pipeline_delete(
        actor=request.user, origin=WEB, pipeline=pipeline),
        done=_("已删除销售流程 %(name)s") % {"name": pipeline.name},
        to=reverse("history:pipelines"), refused_to=_pipeline_url(pk))


@require_POST
@web_view
def stage_create(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_catalogue(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = StageForm(request.POST, form_id="stage-new", new=True)
    if form.is_valid():
        try:
            stage = services.stage_save(actor=request.user, origin=WEB,
                                        data={**form.data_for_service(), "pipeline": pipeline.pk})
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("已添加阶段 %(name)s") % {"name": stage.name})
            return redirect(_pipeline_url(pk, _row_id(stage.pk)))
    return _pipeline_page(request, pk, adding=form)


@require_POST
@web_view
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One row of the table: name, win probability, open / won / lost."""
    services.require_catalogue(request.user)
    stage = get_object_or_404(Stage, pk=pk)
    form = _stage_form(stage, request.POST)
    if form.is_valid():
        try:
            services.stage_save(actor=request.user, origin=WEB, stage=stage,
                                data=form.data_for_service())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("已保存阶段 %(name)s") % {"name": form.cleaned_data["name"]})
            return redirect(_pipeline_url(stage.pipeline_id, _row_id(pk)))
    return _pipeline_page(request, stage.pipeline_id, editing=form)


@require_POST
@web_view
def stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_catalogue(request.user)
    stage = get_object_or_404(Stage, pk=pk)
    direction = request.POST.get("direction", "")
    services.stage_move(actor=request.user, origin=WEB, stage=stage, direction=direction)
    # No #fragment: the browser skips autofocus on a page opened at one (and the focused
    # button is scrolled into view anyway).
    url = reverse("history:pipeline", args=[stage.pipeline_id])
    return redirect(f"{url}?moved={pk}-{direction}")


@require_POST
@web_view
def stage_remove(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_catalogue(request.user)
    stage = get_object_or_404(Stage, pk=pk)
    return press_button(request, lambda: services.stage_delete(
        actor=request.user, origin=WEB, stage=stage),
        done=_("已删除阶段 %(name)s") % {"name": stage.name}, to=_pipeline_url(stage.pipeline_id))
