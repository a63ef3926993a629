from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "kehu.followup"
    label = "followup"

    def ready(self) -> None:
        # An erasure (privacy) redacts the person's tasks.
        from kehu.privacy.holdings import Holding, register_holding

        register_holding(Holding("followup.FollowUpTask", _("跟进任务"), text=("title", "notes")))
        # Logging a communication completes the customer's open plan task (history does not
        # know follow-up: a model signal), and a tier or stage change re-plans at once.
        from django.db.models.signals import post_save

        from kehu.classification.signals import classes_changed
        from kehu.history.models import Communication

        post_save.connect(_communication_saved, sender=Communication,
                          dispatch_uid="followup.communication")
        classes_changed.connect(_classes_changed, dispatch_uid="followup.replan")
        # A merged duplicate's open tasks are cancelled; the survivor is planned afresh.
        from kehu.customers.merging import customer_merged

        customer_merged.connect(_customer_merged, dispatch_uid="followup.merge")
        # An owner change (a transfer, the pool's moves), in its transaction: a customer left
        # without an owner has its open tasks cancelled, one given an owner is re-planned.
        from kehu.customers.signals import owners_changed

        owners_changed.connect(_owners_changed, dispatch_uid="followup.owners")
        # 离职交接: the leaver's open tasks on the customers handed over go with them.
        from kehu.customers.signals import handed_over
        from kehu.followup.services import tasks_hand_over

        handed_over.connect(tasks_hand_over, dispatch_uid="followup.handover")
        # The demo team gets default plans once demo data is in.
        from kehu.followup.demo import after_demo_load
        from kehu.jobs.signals import job_finished

        job_finished.connect(after_demo_load, dispatch_uid="followup.after_demo")
        # Tasks on the card's timeline and in a card panel; plans and the calendar in 设置.
        from functools import partial

        from kehu.core.cards import CardPanel, register_card_panel
        from kehu.core.settings_menu import register_settings_section
        from kehu.followup.api import task_dict
        from kehu.followup.models import FollowUpTask
        from kehu.followup.views import panel_context
        from kehu.history.api.serializers import register_timeline_serializer
        from kehu.history.timeline import TimelineSource, register_timeline_kind

        register_timeline_kind("followup", TimelineSource(
            FollowUpTask, "event_at", False, ("customer", "plan", "assignee", "done_by"),
            template="followup/timeline_entry.html"), _("跟进任务"))
        register_timeline_serializer("followup", partial(task_dict, finished=True))
        register_card_panel(CardPanel(key="followup", title=_("跟进任务"),
                                      template="followup/panels/tasks.html",
                                      context=panel_context, order=5))
        # In the admins' menu; managers (who keep their own plans) reach it from 今日待办.
        register_settings_section("followup_plans", _("跟踪计划"), "followup:plans", order=25,
                                  description=_("按分类或分群定期跟进：周期、方式、要点和执行人"))
        register_settings_section("calendar", _("工作日历"), "followup:calendar", order=26,
                                  description=_("节假日与调休上班日，优先于内置日历"))


def _communication_saved(sender: Any, instance: Any, created: bool, raw: bool = False,
                         **kwargs: Any) -> None:
    if created and not raw:
        from kehu.followup.services import complete_by_communication

        complete_by_communication(communication=instance)


def _classes_changed(sender: Any, ids: set[int], dimensions: set[int], **kwargs: Any) -> None:
    from kehu.followup.services import plans_read, replan

    if plans_read(dimensions):
        replan(ids)


def _owners_changed(sender: Any, ids: list[int], to_user_id: int | None, actor: Any,
                    origin: str, reason: str = "", **kwargs: Any) -> None:
    from kehu.followup.services import plan_tasks_follow_owner, replan, tasks_cancel_unowned

    if to_user_id is None:
        tasks_cancel_unowned(actor=actor, origin=origin, customer_ids=ids, reason=reason)
    else:
        plan_tasks_follow_owner(actor=actor, origin=origin, customer_ids=ids,
                                to_user_id=to_user_id)
        replan(ids)


def _customer_merged(sender: Any, survivor_id: int, duplicate_id: int, actor: Any, origin: str,
                     **kwargs: Any) -> None:
    from kehu.followup.services import merge_settle

    merge_settle(actor=actor, origin=origin, survivor_id=survivor_id, duplicate_id=duplicate_id)

