"""The base of every Kehu management command (`kehu serve`, `kehu user create`, …).

Each app keeps its commands next to its code, in `<app>/management/commands/`, as
subclasses of `KehuCommand`. What they share is the error contract of the `kehu` command:
a refusal is ONE line on stderr, starting with 错误：, and exit status 1 — for a
`CommandError` and for a `ValidationError` a service raised ("field: message; field: …").
Called through `call_command`, a refusal is a `CommandError` carrying that same line.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, handle_default_options


class KehuCommand(BaseCommand):
    """A management command whose refusals are one line: 错误：<message>, exit status 1."""

    # As before the commands moved into the apps: serving and setting up do not wait on the
    # system checks (`kehu check` runs them).
    requires_system_checks: list[str] = []
    # Options every Django command accepts but no Kehu command uses: hidden from -h.
    suppressed_base_arguments = {"--version", "--settings", "--pythonpath", "--no-color",
                                 "--force-color"}

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc

    def run_from_argv(self, argv: list[str]) -> None:
        """Django's run_from_argv with the Kehu error line instead of "CommandError: …".

        Unlike Django's it leaves the database connections open: the process ends right
        after and closes them, and closing them here would end a calling test's transaction.
        """
        self._called_from_command_line = True
        options = self.create_parser(argv[0], argv[1]).parse_args(argv[2:])
        handle_default_options(options)
        cmd_options = vars(options)
        args = cmd_options.pop("args", ())
        try:
            self.execute(*args, **cmd_options)
        except CommandError as exc:
            if options.traceback:
                raise
            self.stderr.write(f"错误：{' '.join(str(exc).splitlines())}")
            sys.exit(exc.returncode)


def validation_message(exc: ValidationError) -> str:
    """One line from a ValidationError: "field: message; field: message"."""
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}"
                         for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def invalid(field: str, message: str) -> ValidationError:
    """The refusal of one field, shaped like the ones services raise."""
    return ValidationError({field: [message]})
