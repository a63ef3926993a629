"""The customer scoping gate: the only place that decides which customer rows a person reaches.

Every model that holds customer data uses a manager built from `ScopedQuerySet`.
`visible_to(user, action)` narrows a queryset to the rows the user may read (VIEW),
edit (CHANGE: fields and history) or manage (MANAGE: transfer, share, delete,
restore); `get_for(user, pk, action)` is the one lookup of a single row: the same
404 for missing and out-of-scope, 403 when the row is visible but the action is not
allowed. The org chart ("which owners does this user cover") is `accounts.policy`;
this module adds what only the customers know: soft deletion and shares.

A share (`CustomerShare`) is a grant to look at one customer — and, at level
`edit`, to edit its fields and log its history — until its end date. It never
grants MANAGE: only someone whose own data scope covers the owner may hand a
customer over, share it further, delete or restore it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from django.apps import apps
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.policy import Access, access_for
from kehu.core.errors import Http404, PermissionDenied
from kehu.customers import scope_plans

if TYPE_CHECKING:
    from kehu.accounts.models import User

VIEW = "view"
CHANGE = "change"
MANAGE = "manage"
ACTIONS = (VIEW, CHANGE, MANAGE)


@dataclass(frozen=True)
class Shares:
    """The customers shared with one user that are still running, by level."""

    view_ids: frozenset[int]
    edit_ids: frozenset[int]

    def for_action(self, action: str) -> frozenset[int]:
        if action == VIEW:
            return self.view_ids | self.edit_ids
        if action == CHANGE:
            return self.edit_ids
        return frozenset()


NO_SHARES = Shares(frozenset(), frozenset())

# Grants of VIEW from apps above customers (the pool: members see its customers). Each is
# fn(user) -> a queryset of customer ids ("customer_id" or "pk" values), or None when it
# grants the user nothing — then the gate's SQL stays exactly as without it.
ViewGrant = Callable[[Any], "models.QuerySet | None"]
_VIEW_GRANTS: list[ViewGrant] = []


def register_view_grant(fn: ViewGrant) -> None:
    """Add a VIEW grant (called once, from an app's `ready()`); never CHANGE or MANAGE."""
    if fn not in _VIEW_GRANTS:
        _VIEW_GRANTS.append(fn)


def view_grants(user: User | None) -> list[models.QuerySet]:
    """The registered grants' id subqueries that apply to `user` (usually none)."""
    return [ids for _, ids in view_grants_by_source(user)]


def view_grants_by_source(user: User | None) -> list[tuple[ViewGrant, models.QuerySet]]:
    """(grant, id subquery) of each registered grant that applies to `user`: for readers
    that serve a grant from figures of their own (the kanban's pool tallies)."""
    return [(fn, ids) for fn in _VIEW_GRANTS if (ids := fn(user)) is not None]


class ScopedQuerySet(models.QuerySet):
    """A queryset whose rows belong to a customer reached through `customer_path`.

    `customer_path` is "" for the customer itself and "customer__" for a contact,
    an order, a communication and every other row attached to one customer.
    """

    customer_path: str = "customer__"

    def visible_to(self, user: User | None, action: str = VIEW) -> Self:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        access = access_for(user)
        if access.user_id is None or (action != VIEW and not access.can_write):
            return self.none()
        qs = self.filter(**{f"{self.customer_path}deleted_at__isnull": True})
        shared = NO_SHARES if access.sees_all else shares_of(user)
        granted = view_grants(user) if action == VIEW and not access.sees_all else []
        return scope_filter(qs, access, shared.for_action(action), self.customer_path, granted)

    def get_for(self, user: User | None, pk: Any, action: str = VIEW, *, lock: bool = False) -> Any:
        """The one row `user` may act on: 404 when missing or out of scope, 403 when read-only.

        With `lock`, the row is re-read `select_for_update` (inside the caller's transaction).
        """
        pk = as_pk(pk)
        row = self.visible_to(user, action).filter(pk=pk).first()
        if row is None:
            if action != VIEW and self.visible_to(user, VIEW).filter(pk=pk).exists():
                raise PermissionDenied(_refusal(user, action))
            raise Http404
        if lock:
            return self.model._default_manager.select_for_update().get(pk=pk)
        return row

    def in_recycle_bin_of(self, user: User | None) -> Self:
        """Soft-deleted customers whose owner is in the user's scope (shares do not count:
        a colleague a customer was shared with does not get to restore it)."""
        access = access_for(user)
        if access.user_id is None:
            return self.none()
        qs = self.filter(**{f"{self.customer_path}deleted_at__isnull": False})
        return scope_filter(qs, access, frozenset(), self.customer_path)


class CustomerBoundQuerySet(ScopedQuerySet):
    """For rows attached to one customer through a `customer` foreign key."""

    customer_path = "customer__"


def scope_filter(
    qs: models.QuerySet, access: Access, shared_ids: frozenset[int], path: str = "",
    granted: list[models.QuerySet] | None = None,
) -> models.QuerySet:
    """`qs` narrowed to the customers (reached via `path`) that `access` covers, plus `shared_ids`.

    A customer list of one owner and nothing else is an equality the (owner, updated_at, id)
    index serves in list order. Anything else — a wider scope, or another table's rows (a
    rep's orders: 1.1 s sorted through the owner index when the rep owns 125,000 customers)
    — is written for the plan `scope_plans` picks from the scope's size: the owners' rows
    through the owner index for a small scope, a walk of the list's index for a large one.
    Shared ids are a literal list, left out when empty so the common case keeps its index;
    `granted` (registered VIEW grants) are id subqueries, likewise left out when none apply.
    """
    if access.sees_all:
        return qs
    owners = sorted(access.owner_ids)
    granted = granted or []
    if len(owners) == 1 and not shared_ids and not granted and not path:
        return qs.filter(owner_id=owners[0])  # the (owner, updated_at, id) index, in order
    plan = scope_plans.scope_size(owners, len(shared_ids), granted).filter_plan(
        through_join=bool(path))
    if path and plan == scope_plans.IN:
        # The customers first, then their rows: an OR of the owner (on the customer) and the
        # shared ids (on the row's own customer_id) would make the database walk the whole
        # list (the sharer's orders: 295 ms at 1,000,000 customers, 3 ms as a sub-select).
        aliases, condition = _scope_condition(owners, shared_ids, "", granted, plan)
        customers = scope_plans.live_customers().alias(**aliases).filter(condition)
        return qs.filter(scope_plans.rows_of_customers(f"{path}id", customers))
    aliases, condition = _scope_condition(owners, shared_ids, path, granted, plan)
    return qs.alias(**aliases).filter(condition)


def _scope_condition(owners: list[int], shared_ids: frozenset[int], path: str,
                     granted: list[models.QuerySet], plan: str) -> tuple[dict, Q]:
    """(aliases, condition): owned by one of `owners`, shared, or granted, written for `plan`."""
    aliases, condition = scope_plans.owner_test(path, owners, plan)
    by_id = f"{path}id__in" if path else "id__in"
    if shared_ids:
        condition |= Q(**{by_id: sorted(shared_ids)})
    for ids in granted:
        condition |= scope_plans.grant_test(path, ids, plan)
    return aliases, condition


@dataclass(frozen=True)
class ScopeParts:
    """What a viewer's VIEW scope is made of, for readers the gate's `visible_to` cannot
    serve whole: the page plans below, and tables keyed by the owner (the kanban's tallies).
    `owners` is None for the whole company; empty for nobody (no access)."""

    owners: list[int] | None
    shared: list[int]
    granted: list[models.QuerySet]
    sources: tuple[ViewGrant, ...] = ()  # the grant behind each of `granted`, in order

    def size(self) -> scope_plans.ScopeSize:
        return scope_plans.scope_size(self.owners or [], len(self.shared), self.granted)


def scope_parts(user: User | None) -> ScopeParts:
    """The viewer's VIEW scope in parts: the org chart's owners, running shares, grants."""
    access = access_for(user)
    if access.user_id is None:
        return ScopeParts([], [], [])
    if access.sees_all:
        return ScopeParts(None, [], [])
    grants = view_grants_by_source(user)
    return ScopeParts(sorted(access.owner_ids), sorted(shares_of(user).for_action(VIEW)),
                      [ids for _, ids in grants], tuple(fn for fn, _ in grants))


def scope_reach(user: User | None) -> float:
    """About what share of the customers the user's scope holds (`scope_plans.scope_share`;
    1 for the whole company, and where it is not known: SQLite). It only sizes work —
    quick search's window of newest days — never what is found."""
    parts = scope_parts(user)
    if parts.owners is None:
        return 1.0
    share = scope_plans.scope_share(parts.owners, len(parts.shared))
    return 1.0 if share is None else share


def scope_is_small(user: User | None) -> bool:
    """Whether another table's rows of the user's scope are best read from the scope's own
    customers (the IN plan through a join, `scope_plans`) rather than by walking that table's
    list index: a list with an index of its own to walk (a kanban column's `(stage, updated_at,
    id)`) hides it then, or SQLite walks the whole column for a small team's few cards."""
    parts = scope_parts(user)
    if not parts.owners:
        return False
    return parts.size().filter_plan(through_join=True) == scope_plans.IN


def page_branches(user: User | None) -> list[Q] | None:
    """The viewer's customer scope as branches a list page reads one by one, when that reads
    fewer rows than the filter's own plan (`scope_plans`); None when it does not."""
    parts = scope_parts(user)
    if not parts.owners or len(parts.owners) + len(parts.granted) + bool(parts.shared) < 2:
        return None
    if not parts.size().wants_branches():
        return None
    return scope_plans.branches(parts.owners, parts.shared, parts.granted)


def shares_of(user: User) -> Shares:
    """The user's running shares, read once per user object (usually none or a handful)."""
    cached = getattr(user, "_kehu_shares", None)
    if cached is not None:
        return cached
    view_ids: set[int] = set()
    edit_ids: set[int] = set()
    for customer_id, level in _running_shares(user.pk):
        (edit_ids if level == "edit" else view_ids).add(customer_id)
    found = Shares(frozenset(view_ids), frozenset(edit_ids))
    user._kehu_shares = found
    return found


def _running_shares(user_id: int) -> list[tuple[int, str]]:
    """(customer id, level) of the user's running shares, in plain SQL: the gate asks it on
    every request of everyone but admins, and the ORM's version cost 0.5–0.6 ms of CPU, nearly
    all of it building and compiling the query (what `ShareQuerySet.running` says, here too)."""
    meta = apps.get_model("customers", "CustomerShare")._meta  # the models import this module
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('customer_id')}, {quote('level')} FROM "
                       f"{quote(meta.db_table)} WHERE {quote('user_id')} = %s AND "
                       f"({quote('ends_on')} IS NULL OR {quote('ends_on')} >= %s)",
                       [user_id, timezone.localdate()])
        return cursor.fetchall()


def forget_shares(user: User) -> None:
    """Drop the cached shares after one is added, changed or removed."""
    user.__dict__.pop("_kehu_shares", None)


def as_pk(value: Any) -> int:
    """A primary key from a path, a form or a bare instance; anything else is a 404."""
    if isinstance(value, models.Model):
        value = value.pk
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk < 2**63:
        raise Http404
    return pk


def _refusal(user: User | None, action: str) -> str:
    """Why a visible row refuses `action`: a read-only role, or a share that does not reach."""
    if not access_for(user).can_write or action == CHANGE:
        return _("你只有查看权限")
    return _("共享给你的客户只能查看或编辑，转移、共享和删除需由负责人或其上级操作")


class ShareQuerySet(CustomerBoundQuerySet):
    """Shares are customer-bound rows like any other; `running()` leaves out expired ones."""

    def running(self) -> Self:
        today = timezone.localdate()
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))


def customer_for(user: User | None, pk: Any, action: str = VIEW, *, lock: bool = False) -> Any:
    """One customer through the gate — how other apps reach a customer they act on."""
    return apps.get_model("customers", "Customer").objects.get_for(user, pk, action, lock=lock)


def customer_ids_for(user: User | None, ids: Any, action: str = VIEW) -> set[int]:
    """Which of `ids` the user may `action` — for batches that name many customers."""
    pks = {pk for pk in ids if isinstance(pk, int) and 0 < pk < 2**63}  # others match nothing
    qs = apps.get_model("customers", "Customer").objects.visible_to(user, action).filter(pk__in=pks)
    return set(qs.values_list("pk", flat=True))
