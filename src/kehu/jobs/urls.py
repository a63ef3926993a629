"""My jobs, a job's live progress and files, and (admins) the schedules."""

from django.urls import path

from kehu.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/progress/", views.job_progress, name="progress"),
    path("<int:pk>/files/<int:file_pk>/", views.job_file, name="file"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
    path("<int:pk>/rerun/", views.job_rerun, name="rerun"),
    path("schedules/", views.schedule_list, name="schedules"),
    path("schedules/<int:pk>/", views.schedule_edit, name="schedule_edit"),
    path("schedules/<int:pk>/run/", views.schedule_run, name="schedule_run"),
]
