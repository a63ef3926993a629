from django.urls import path

from kehu.followup import settings_views, views

app_name = "followup"

urlpatterns = [
    path("today/", views.my_day, name="today"),
    path("team/<int:user_id>/", views.team_member, name="team_member"),
    path("tasks/<int:task_id>/log/", views.task_log, name="task_log"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("tasks/<int:task_id>/cancel/", views.task_cancel, name="task_cancel"),
    path("customers/<int:customer_id>/tasks/", views.task_add, name="task_add"),
    path("plans/", settings_views.plans, name="plans"),
    path("plans/new/", settings_views.plan_edit, name="plan_create"),
    path("plans/escalation/", settings_views.escalation, name="escalation"),
    path("plans/<int:plan_id>/", settings_views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_id>/move/", settings_views.plan_move, name="plan_move"),
    path("calendar/", settings_views.calendar, name="calendar"),
    path("calendar/<int:day_id>/delete/", settings_views.calendar_delete, name="calendar_delete"),
]
