"""A plan task is due at the customer's preferred contact time (history's ContactTime): 上午
09:00, 中午 12:00, 下午 14:00, 晚上 19:00; any other preference or none, 09:00."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.followup.generation import CONTACT_TIMES, generate
from kehu.followup.models import FollowUpTask
from kehu.history.choices import ContactTime
from kehu.history.services import preference_save
from tests.followup.conftest import set_tier

pytestmark = pytest.mark.django_db


def test_every_contact_time_has_its_moment_and_a_column_of_the_calendar_table():
    from kehu.followup.models import WorkingShift

    columns = {f.name for f in WorkingShift._meta.get_fields()}
    assert set(CONTACT_TIMES) <= set(ContactTime.values)
    assert {f"{time.value}_at" for time in CONTACT_TIMES} <= columns


@pytest.mark.parametrize(("wanted", "at"), [
    (ContactTime.MORNING, dt.time(9)), (ContactTime.NOON, dt.time(12)),
    (ContactTime.AFTERNOON, dt.time(14)), (ContactTime.EVENING, dt.time(19)),
    (ContactTime.WEEKEND, dt.time(9)), (ContactTime.ANY, dt.time(9)), (None, dt.time(9))])
def test_a_plan_task_is_due_at_the_preferred_contact_time(wanted, at, alice, make_customer,
                                                            plans):
    customer = make_customer(alice, name="有偏好的客户")
    if wanted is not None:
        preference_save(actor=alice, customer=customer, origin="manual",
                        data={"preferred_contact_time": wanted})
    set_tier(customer, "a")
    generate(actor=system_actor())
    task = FollowUpTask.objects.get(customer=customer, kind="plan", status="open")
    assert timezone.localtime(task.due_at).time() == at
