"""Fixtures for notifications: jobs run in this process, and a real SMTP server on 127.0.0.1.

The SMTP server is aiosmtpd, started by the test on a free port; the code under test talks
to it through Django's ordinary SMTP backend, so what is checked is what a mail server gets.
"""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from kehu.core.models import Origin
from kehu.jobs.registry import job
from kehu.jobs.services import job_start
from kehu.jobs.testing import drain, flush_queue

EXPORT = "tests.notifications.export"
BROKEN = "tests.notifications.broken"


@job(EXPORT, title="测试导出")
def _export(ctx):
    with ctx.step(advance=1):
        pass
    return {"rows": 3}


@job(BROKEN, title="会失败的任务", max_attempts=1)
def _broken(ctx):
    raise RuntimeError("the disk is full")


@pytest.fixture(autouse=True)
def empty_queue():
    """Every test starts with an empty job queue (a message left by another test would run
    against this test's rows)."""
    flush_queue()
    yield
    flush_queue()


@pytest.fixture
def no_smtp(settings):
    settings.KEHU_EMAIL_ENABLED = False


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit():` — run what was deferred to the commit (queueing jobs) at the end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def run_jobs(commit):
    """Run every queued job here, and the jobs those queue, until nothing is left."""

    def run() -> int:
        total = 0
        while True:
            with commit():
                ran = drain()
            if not ran:
                return total
            total += ran

    return run


@pytest.fixture
def start_job(commit):
    def start(actor, kind=EXPORT):
        with commit():
            return job_start(actor=actor, origin=Origin.MANUAL, kind=kind)

    return start


@pytest.fixture
def with_email(alice, bob):
    for person in (alice, bob):
        person.email = f"{person.username}@example.com"
        person.save(update_fields=["email"])


@dataclass
class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message) per mail."""

    mails: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 for this test; yields (port, inbox)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings, smtp_server):
    """E-mail configured to the test's SMTP server, as KEHU_EMAIL_URL=smtp://127.0.0.1:<port> would."""
    port, inbox = smtp_server
    configure_smtp(settings, port)
    return inbox


def configure_smtp(settings, port: int) -> None:
    settings.KEHU_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Kehu <kehu@example.com>"
