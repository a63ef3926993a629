"""The five data scopes, as a company's org chart uses them."""

import pytest

from kehu.accounts.models import DataScope, Department, Role
from kehu.accounts.policy import access_for
from kehu.accounts.services import department_path, user_create
from kehu.customers.models import Customer


@pytest.fixture
def org(db):
    """总部 > 华东区 > 上海组; 总部 > 华南区. A director, a team lead with a report, reps."""
    for code, scope in [("lead", DataScope.OWN_AND_SUBORDINATES), ("dept", DataScope.DEPARTMENT)]:
        Role.objects.create(code=code, name=code, data_scope=scope)
    east, shanghai = department_path("总部/华东区"), department_path("总部/华东区/上海组")
    south = department_path("总部/华南区")
    people = {}
    people["director"] = user_create(username="director", role_code="manager", department=east)[0]
    people["lead"] = user_create(username="lead", role_code="lead", department=shanghai)[0]
    people["rep_sh"] = user_create(username="rep_sh", role_code="sales", department=shanghai,
                                   manager=people["lead"])[0]
    people["rep_east"] = user_create(username="rep_east", role_code="dept", department=east)[0]
    people["rep_south"] = user_create(username="rep_south", role_code="sales",
                                      department=south)[0]
    for name, user in people.items():
        Customer.objects.create(kind="company", name=f"{name}的客户", owner=user)
    return people


def sees(user):
    return sorted(Customer.objects.visible_to(user).values_list("name", flat=True))


def test_department_tree_scope_covers_sub_departments(org):
    assert sees(org["director"]) == ["director的客户", "lead的客户", "rep_east的客户", "rep_sh的客户"]


def test_own_and_subordinates_follows_the_reporting_line(org):
    assert sees(org["lead"]) == ["lead的客户", "rep_sh的客户"]


def test_department_scope_stops_at_the_department(org):
    assert sees(org["rep_east"]) == ["director的客户", "rep_east的客户"]


def test_own_scope(org):
    assert sees(org["rep_south"]) == ["rep_south的客户"]


def test_an_inactive_user_sees_nothing(org):
    org["director"].is_active = False
    assert sees(org["director"]) == []
    assert access_for(None).user_id is None


def test_moving_a_department_moves_its_subtree(org):
    shanghai = Department.objects.get(name="上海组")
    shanghai.parent = Department.objects.get(name="华南区")
    shanghai.save()
    assert Department.objects.get(name="上海组").path.startswith(
        Department.objects.get(name="华南区").path)
    director = type(org["director"]).objects.get(pk=org["director"].pk)
    assert sees(director) == ["director的客户", "rep_east的客户"]
