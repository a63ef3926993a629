from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "kehu.pool"
    label = "pool"
    verbose_name = _("公海")

    def ready(self) -> None:
        # An erasure (privacy) redacts why the customer went to or left the pool.
        from kehu.privacy.holdings import Holding, register_holding

        register_holding(Holding("pool.PoolEntry", _("公海记录"), text=("reason",)))
        register_holding(Holding("pool.PoolMove", _("公海流转"), text=("reason",)))
        # The gate: members see their pools' customers (VIEW only), masked until claimed.
        # customers does not know the pool; it offers the two registries.
        from kehu.customers.scoping import register_view_grant
        from kehu.customers.sensitive import register_masked_customers
        from kehu.pool.gate import customers_in_pools, pool_customers_query, pool_view_grant

        register_view_grant(pool_view_grant)
        # The kanban adds a member's pools' deals from the pool's own tallies.
        from kehu.history.tallies import GrantTally, register_grant_tally
        from kehu.pool.tallies import pool_stage_figures, pool_tallies_drift, pool_tallies_rebuild

        register_grant_tally(GrantTally(pool_view_grant, pool_stage_figures,
                                        pool_tallies_rebuild, pool_tallies_drift))
        register_masked_customers(customers_in_pools, pool_customers_query)
        # A pool customer given an owner by any other path (an admin's 转移) leaves the pool
        # in that transaction.
        from kehu.customers.signals import owners_changed

        owners_changed.connect(_owners_changed, dispatch_uid="pool.owners_changed")
        # Moves on the card's timeline, the pool panel on the card, pools in 设置.
        from kehu.core.cards import CardPanel, register_card_panel
        from kehu.core.settings_menu import register_settings_section
        from kehu.history.api.serializers import register_timeline_serializer
        from kehu.history.timeline import TimelineSource, register_timeline_kind
        from kehu.pool.models import PoolMove
        from kehu.pool.views import panel_context

        register_timeline_kind("pool", TimelineSource(
            PoolMove, "at", False, ("actor", "from_user", "to_user", "pool"),
            template="pool/timeline_entry.html"), _("公海"))
        register_timeline_serializer("pool", _move_dict)
        register_card_panel(CardPanel(key="pool", title=_("公海"), template="pool/panels/pool.html",
                                      context=panel_context, order=6))
        register_settings_section("pools", _("公海"), "pool:settings", order=27,
                                  description=_("公海、回收规则和领取上限"))


def _owners_changed(sender: Any, ids: list[int], to_user_id: int | None, actor: Any,
                    origin: str, reason: str = "", **kwargs: Any) -> None:
    if to_user_id is not None:
        from kehu.pool.services import pool_entries_end

        pool_entries_end(actor=actor, origin=origin, ids=ids, to_user_id=to_user_id,
                         reason=reason)


def _move_dict(move) -> dict:
    return {"kind": move.kind, "pool": move.pool.name if move.pool else None,
            "actor": move.actor_id, "from_user": move.from_user_id, "to_user": move.to_user_id,
            "reason": move.reason, "shares_ended": move.shares_ended}
