"""Who is a member of which pool: the gate's plain-SQL answer (asked on every request of
everyone but admins, issue 15 item 4) is the one `pools_of_department` gives — a pool of the
person's department or of one above it, active ones only."""

from __future__ import annotations

import pytest

from kehu.accounts.models import User
from kehu.accounts.services import department_path, user_create
from kehu.pool.gate import member_pool_ids, pools_of_department
from kehu.pool.models import Pool
from kehu.pool.services import pool_save

pytestmark = pytest.mark.django_db


def test_members_are_those_of_the_pool_departments_and_below(root, east, south, pool):
    shanghai = department_path("总部/华东区/上海组")
    closed = pool_save(actor=root, origin="manual", data={
        "name": "上海旧公海", "departments": [shanghai.pk], "daily_claims": 1, "max_held": 1,
        "reclaim_wait_days": 1})
    Pool.objects.filter(pk=closed.pk).update(is_active=False)
    south_pool = pool_save(actor=root, origin="manual", data={
        "name": "华南公海", "departments": [south.pk, shanghai.pk], "daily_claims": 1,
        "max_held": 1, "reclaim_wait_days": 1})
    people = {name: user_create(username=name, role_code="sales", department=department,
                                password=f"{name}-pass-123")[0]
              for name, department in (("hz", east), ("sh", shanghai), ("sz", south),
                                       ("hq", department_path("总部")), ("none", None))}
    expected = {"hz": {pool.pk}, "sh": {pool.pk, south_pool.pk}, "sz": {south_pool.pk},
                "hq": set(), "none": set()}
    for name, user in people.items():
        fresh = User.objects.get(pk=user.pk)
        assert member_pool_ids(fresh) == expected[name], name
        assert {p.pk for p in pools_of_department(fresh.department_id)} == expected[name], name
