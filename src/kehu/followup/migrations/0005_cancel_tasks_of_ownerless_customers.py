"""Open tasks on customers nobody owns (put in the pool before the pool's moves cancelled
them, 2026-12-05): cancelled now, each with a change-log row, as `tasks_cancel_unowned`
does for every move since — nobody is to follow up a customer nobody owns."""

from django.db import migrations
from django.utils import timezone

REASON = "客户已在公海：无人负责的客户不再跟进"


def cancel(apps, schema_editor):
    Task = apps.get_model("followup", "FollowUpTask")
    ChangeLog = apps.get_model("core", "ChangeLog")
    now = timezone.now()
    while True:
        rows = list(Task.objects.filter(status="open", customer__owner__isnull=True)
                    .order_by("pk").values_list("pk", "customer_id")[:1000])
        if not rows:
            return
        Task.objects.filter(pk__in=[pk for pk, _customer in rows]).update(
            status="cancelled", event_at=now)
        ChangeLog.objects.bulk_create(
            ChangeLog(actor=None, origin="system", action="task_cancelled",
                      model="followup.followuptask", object_id=pk, customer_id=customer,
                      changes={"status": ["open", "cancelled"], "reason": REASON})
            for pk, customer in rows)


class Migration(migrations.Migration):
    dependencies = [("followup", "0004_coverage_snapshot"), ("core", "0002_changelog_actor_protected")]
    operations = [migrations.RunPython(cancel, migrations.RunPython.noop)]
