"""A task reads the same in the follow-up API and on the card's timeline (one serializer,
`api.task_dict`): the timeline adds who finished it and the communication that did it."""

from __future__ import annotations

import datetime as dt

import pytest

from kehu.followup.services import task_log

pytestmark = pytest.mark.django_db

TASK_KEYS = {"id", "customer_id", "customer_name", "kind", "title", "notes", "channel", "plan",
             "assignee", "due_date", "due_at", "status", "version"}


def test_the_api_and_the_timeline_give_a_task_alike(alice, alices_customer, api_as):
    api = api_as(alice)
    made = api.request("POST", "/followup/tasks", {
        "customer": alices_customer.pk, "title": "寄样品后回访", "due_date": "2026-12-10",
        "due_time": "15:30", "channel": "phone"})
    assert made.status_code == 201
    task = made.json()
    assert set(task) == TASK_KEYS
    assert (task["customer_name"], task["due_date"], task["plan"]) == (
        alices_customer.name, "2026-12-10", None)
    call, _done = task_log(actor=alice, origin="manual", task=task["id"], data={"subject": "已寄"})
    items = api.get(f"/customers/{alices_customer.pk}/timeline", kinds="followup").json()["items"]
    assert [e["id"] for e in items] == [task["id"]]
    data = items[0]["data"]
    assert set(data) == TASK_KEYS | {"done_by", "communication"}
    assert (data["status"], data["done_by"], data["communication"]) == ("done", alice.pk, call.pk)
    assert {k: data[k] for k in ("title", "due_date", "customer_name", "channel")} == {
        k: task[k] for k in ("title", "due_date", "customer_name", "channel")}
    moment = dt.datetime.fromisoformat
    assert moment(data["due_at"]) == moment(task["due_at"])  # one instant (the timeline's in UTC)
