"""`kehu demo` runs the demo job in the foreground: a progress bar at a terminal, a Job row
in My jobs afterwards, the demo team's one-time password on the terminal only."""

from __future__ import annotations

import io
import re

import pytest

from kehu.cli import main
from kehu.jobs.models import Job, Status

# Real commits: the bar moves as each batch commits, as it does at a terminal.
pytestmark = pytest.mark.django_db(transaction=True)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_kehu_demo_shows_a_progress_bar_and_leaves_a_finished_job(monkeypatch, capsys):
    terminal = Terminal()
    with monkeypatch.context() as patch:  # undone before capsys closes its own streams
        patch.setattr("sys.stderr", terminal)
        assert main(["demo", "--customers", "300", "--seed", "3"]) == 0
    bar = terminal.getvalue()
    assert re.search(r"\|\s*300/300 ", bar), bar  # tqdm's bar, counted in customers
    assert "50/300" in bar and "客户/s" in bar
    job = Job.objects.get(kind="demo.load")
    assert (job.status, job.done, job.total, job.origin) == (Status.DONE, 300, 300, "system")
    assert job.params == {"customers": 300, "seed": 3, "batch_size": 50}
    printed = capsys.readouterr().out
    assert "密码均为" in printed and "密码" not in str(job.result) + job.error
