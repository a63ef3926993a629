"""GET /me: who the caller is and what they may see and do."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from kehu.accounts.policy import access_for
from kehu.api.responses import json_response
from kehu.api.schemas import READ_ERRORS

router = Router(tags=["accounts"])


class RoleOut(Schema):
    code: str
    name: str


class DepartmentOut(Schema):
    id: int
    name: str


class MeOut(Schema):
    model_config = ConfigDict(extra="forbid")

    id: int
    username: str
    name: str
    language: str
    role: RoleOut | None
    department: DepartmentOut | None
    scope: str = Field(description="own, own_sub, dept, dept_tree or all")
    can_write: bool
    masks_sensitive: bool
    is_admin: bool


@router.get("/me", response={200: MeOut, **READ_ERRORS})
def me(request: HttpRequest) -> HttpResponse:
    user = request.auth
    access = access_for(user)
    role, department = user.role, user.department
    return json_response({
        "id": user.pk, "username": user.username, "name": user.label, "language": user.language,
        "role": {"code": role.code, "name": role.name} if role else None,
        "department": {"id": department.pk, "name": department.name} if department else None,
        "scope": str(access.scope), "can_write": access.can_write,
        "masks_sensitive": access.masks_sensitive, "is_admin": access.is_admin,
    })
