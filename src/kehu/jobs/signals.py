"""Signals other apps listen to (notifications tell a job's actor it has finished)."""

from django.dispatch import Signal

# sender=Job, job=<Job> with status done, failed or cancelled; sent after the commit.
job_finished = Signal()
