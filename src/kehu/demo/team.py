"""The demo team: an admin, two managers with their departments, eight reps and an analyst."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from kehu.accounts.models import User
from kehu.accounts.services import department_path, generate_password, user_create

EAST, SOUTH = "总部/华东区", "总部/华南区"

# username, display name, role, department, manager's username
MEMBERS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("admin", "系统管理员", "admin", "总部", None),
    ("zhou.min", "周敏", "manager", EAST, None),
    ("lin.tao", "林涛", "manager", SOUTH, None),
    ("wang.fang", "王芳", "sales", EAST, "zhou.min"),
    ("li.qiang", "李强", "sales", EAST, "zhou.min"),
    ("zhang.jing", "张静", "sales", EAST, "zhou.min"),
    ("chen.lei", "陈磊", "sales", EAST, "zhou.min"),
    ("liu.yang", "刘洋", "sales", SOUTH, "lin.tao"),
    ("huang.li", "黄丽", "sales", SOUTH, "lin.tao"),
    ("zhao.jun", "赵军", "sales", SOUTH, "lin.tao"),
    ("wu.na", "吴娜", "sales", SOUTH, "lin.tao"),
    ("sun.yu", "孙宇", "analyst", None, None),
)


@dataclass(frozen=True)
class Team:
    """The demo users' ids, and the usernames this run created with the shared `password`."""

    user_ids: list[int]
    rep_ids: list[int]
    created: list[str]
    password: str


@transaction.atomic
def ensure_team() -> Team:
    """Create the members that do not exist yet (existing usernames are reused, untouched).

    All or none: a run killed here leaves no half team, whose password nobody saw."""
    password = generate_password()
    created: list[str] = []
    users: dict[str, User] = {}
    for username, display, role, department, manager in MEMBERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username, role_code=role, password=password, display_name=display,
                department=department_path(department) if department else None,
                manager=users.get(manager) if manager else None,
            )[0]
            created.append(username)
        users[username] = user
    reps = [u.pk for u in users.values() if u.role and u.role.code == "sales"]
    return Team(user_ids=[u.pk for u in users.values()], rep_ids=reps, created=created,
                password=password)
