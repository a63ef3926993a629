"""The follow-up API: my day, coverage, adding a task or a reminder, and logging one done.

`POST /followup/tasks/{id}/log` logs a communication for a task and completes it (any
kind), exactly as 记一笔 on my day (`services.task_log`). A communication logged on the
customer (`POST /customers/{id}/communications`) completes only its open plan task.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from kehu.api.inputs import payload_data
from kehu.api.responses import json_response
from kehu.api.schemas import READ_ERRORS, WRITE_ERRORS
from kehu.core.models import Origin
from kehu.followup import selectors, services
from kehu.followup.coverage import coverage
from kehu.followup.models import FollowUpTask
from kehu.history.api.schemas import CommunicationIn

router = Router(tags=["followup"])


class TaskOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    kind: str = Field(..., description="plan, manual or reminder")
    title: str
    notes: str
    channel: str
    plan: str | None
    assignee: int | None
    due_date: dt.date
    due_at: dt.datetime
    status: str
    version: int


class AgendaRowOut(Schema):
    task: TaskOut
    score: int = Field(..., description="The ranking score (docs/architecture.md, Follow-up)")
    reasons: list[str] = Field(..., description="Why the row ranks where it does, in words")
    talking_points: str
    overdue_days: int


class AgendaOut(Schema):
    day: str
    rows: list[AgendaRowOut]
    total: int = Field(..., description="Due tasks ranked (the earliest 500 at most)")
    overdue: int = Field(..., description="Of which due before today")
    page: int
    pages: int


class DayParams(Schema):
    day: Literal["today", "tomorrow", "week"] = Field(
        "today", description="today: due today and overdue; tomorrow; week: the 7 days after today")
    page: int = Field(1, ge=1, le=10, description="Pages of 50 rows, in one ranked order")


class TaskIn(Schema):
    model_config = ConfigDict(extra="forbid")

    customer: int
    kind: Literal["manual", "reminder"] = "manual"
    title: str = Field(..., max_length=200)
    notes: str = Field("", max_length=2000)
    channel: str = ""
    due_date: dt.date
    due_time: str | None = Field(None, description="HH:MM in the site's time zone; default the "
                                                   "customer's preferred contact time or 09:00")
    assignee: int | None = Field(None, description="A user in your scope; default: you")


class TaskLogOut(Schema):
    task: TaskOut
    communication_id: int


def task_dict(task: FollowUpTask, *, finished: bool = False) -> dict[str, Any]:
    """A task as the API answers it (`TaskOut`), and, `finished`, as the card's timeline
    (`GET /customers/{id}/timeline`, kind followup) gives it: who finished it and the
    communication that did it besides (registered in apps.py)."""
    data = {"id": task.pk, "customer_id": task.customer_id, "customer_name": task.customer.name,
            "kind": task.kind, "title": task.title, "notes": task.notes, "channel": task.channel,
            "plan": task.plan.name if task.plan else None, "assignee": task.assignee_id,
            "due_date": task.due_date, "due_at": task.due_at, "status": task.status,
            "version": task.version}
    if finished:
        data.update(done_by=task.done_by_id, communication=task.communication_id)
    return data


@router.get("/followup/today", response={200: AgendaOut, **READ_ERRORS})
def my_day(request: HttpRequest, params: Query[DayParams]) -> HttpResponse:
    """Your open follow-ups due today and overdue (or tomorrow, or the week), ranked, 50 a
    page (`page`); `total` and `overdue` count them all."""
    agenda = selectors.my_day(viewer=request.auth, day=params.day, page=params.page)
    paging = agenda["paging"]
    return json_response({"day": agenda["day"], "rows": [{
        "task": task_dict(row.task), "score": row.score, "reasons": row.reasons,
        "talking_points": row.points, "overdue_days": row.overdue_days} for row in paging.rows],
        "total": paging.total, "overdue": paging.overdue, "page": paging.page,
        "pages": paging.pages})


class CoverageShareOut(Schema):
    total: int = Field(..., description="Customers in the plan(s)")
    contacted: int = Field(..., description="Of which contacted within the plan's cadence")
    percent: int | None


class PlanShareOut(CoverageShareOut):
    plan_id: int
    plan: str


class PersonShareOut(CoverageShareOut):
    user_id: int
    user: str


class CoverageOut(Schema):
    as_of: dt.datetime | None = Field(..., description="When the snapshot was computed "
                                                       "(every 10 minutes); null before the first")
    all: CoverageShareOut
    plans: list[PlanShareOut]
    people: list[PersonShareOut] = Field(..., description="Per rep, for admins and managers")


def _share(share: Any) -> dict[str, Any]:
    return {"total": share.total, "contacted": share.contacted, "percent": share.percent}


@router.get("/followup/coverage", response={200: CoverageOut, **READ_ERRORS})
def coverage_read(request: HttpRequest) -> HttpResponse:
    """Coverage (监控效果): of the customers in a plan, the share contacted within its cadence —
    yours, or your team's per rep and plan (the latest snapshot)."""
    figures = coverage(viewer=request.auth)
    return json_response({
        "as_of": figures["as_of"], "all": _share(figures["all"]),
        "plans": [{"plan_id": plan.pk, "plan": plan.name, **_share(share)}
                  for plan, share in figures["plans"]],
        "people": [{"user_id": user.pk, "user": user.label, **_share(share)}
                   for user, share in figures["people"]]})


@router.post("/followup/tasks", response={201: TaskOut, **WRITE_ERRORS})
def task_create(request: HttpRequest, payload: TaskIn) -> HttpResponse:
    """A manual task or a one-off reminder on a customer you may change."""
    data = payload.model_dump()
    customer = data.pop("customer")
    task = services.task_create(actor=request.auth, origin=Origin.API, customer=customer, data=data)
    return json_response(task_dict(task), status=201, version=task.version)


@router.post("/followup/tasks/{int:task_id}/log", response={201: TaskLogOut, **WRITE_ERRORS})
def task_log(request: HttpRequest, task_id: int, payload: CommunicationIn) -> HttpResponse:
    """Log a communication for an open task you may change and complete the task with it
    (the channel defaults to the task's)."""
    communication, task = services.task_log(actor=request.auth, origin=Origin.API, task=task_id,
                                            data=payload_data(payload))
    return json_response({"task": task_dict(task), "communication_id": communication.pk},
                         status=201)
