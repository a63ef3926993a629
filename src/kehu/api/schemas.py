"""Schemas shared by every router: the error shape, user references, cursor pages.

Endpoints build plain dicts (see `responses.json_response`); these schemas are the
documented contract, and tests check real responses against them.
"""

from __future__ import annotations

from typing import Any

from ninja import Header, Schema
from pydantic import ConfigDict, Field, create_model


class ErrorItem(Schema):
    field: str = Field(description="Dotted field name, e.g. phones or custom.level")
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem]


class UserRef(Schema):
    model_config = ConfigDict(extra="forbid")

    id: int
    name: str


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=200, description="Rows per page (1-200)")
    cursor: str | None = Field(None, description="next_cursor or prev_cursor of a previous page")


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """{"items": [item], "next_cursor": str | null, "prev_cursor": str | null}."""
    return create_model(
        name,
        __base__=Schema,
        items=(list[item], ...),
        next_cursor=(str | None, None),
        prev_cursor=(str | None, None),
    )


# The version a change is made from (see `responses.parse_if_match`): required on every
# change of a versioned record, so the OpenAPI document marks it required (`site`).
IF_MATCH: Any = Header(
    None, alias="If-Match",
    description='Required: the ETag you read — 3, "3" or W/"3" (or * for any version). '
                "Missing: 428; stale: 412.",
)

# Error responses every authenticated operation can give, for the OpenAPI document.
READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# 400: a body that is not JSON (or multipart without a boundary), naming "body".
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 400: ErrorOut, 403: ErrorOut}
# Changes of a versioned record: 412 for a stale If-Match, 428 for none at all.
VERSIONED_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 412: ErrorOut, 428: ErrorOut}
