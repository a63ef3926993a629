"""The `kehu` command: a thin dispatcher to the apps' Django management commands.

Each app keeps its commands next to the code they drive, in `<app>/management/commands/`:

    kehu serve [--host H] [--port P] [--workers N]     core
    kehu setup                                        demo: migrate; first run: demo data + admin
    kehu demo [--customers N] [--seed S]              demo
    kehu user create NAME --role ROLE [--team 总部/华东区] [--manager NAME]   accounts
    kehu token create NAME [--label L]                accounts

`kehu` or `kehu -h` lists them (every command of a kehu.* app, with its help); `kehu <command>
…` runs it, or any of Django's own (`kehu migrate`, `kehu createsuperuser`); `kehu manage
<command> …` says Django explicitly. Errors print one line on stderr, starting with 错误：,
and exit with status 1 (the Kehu commands share `kehu.core.commands.KehuCommand`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# Words Django's own dispatcher answers without a command of that name.
DJANGO_WORDS = ("help", "version", "--version")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kehu` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.config.settings")
    explicit = args[:1] == ["manage"]
    if explicit:
        args = args[1:]
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import get_commands

    try:
        django.setup()
    except ImproperlyConfigured as exc:  # a bad setting: say which, in one line
        return fail(str(exc))
    if not explicit and (not args or args[0] in ("-h", "--help")):
        print(usage())
        return 0
    if args and not args[0].startswith("-") and args[0] not in DJANGO_WORDS \
            and args[0] not in get_commands():
        return fail(f"没有命令 “{args[0]}”（kehu -h 列出 Kehu 的命令，kehu help 列出全部）")
    return _django(args)


def usage() -> str:
    """The short help: the Kehu commands with their help, then the hint about Django's."""
    commands = kehu_commands()
    width = max(map(len, commands), default=0)
    lines = ["用法：kehu <命令> [参数 …]（kehu <命令> -h：这个命令的参数）", "", "Kehu 的命令："]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in commands.items()]
    lines += ["", "其他子命令交给 Django：kehu manage <command> …"
                  "（例如 kehu migrate、kehu createsuperuser；kehu help 列出全部）"]
    return "\n".join(lines)


def kehu_commands() -> dict[str, str]:
    """{name: first line of its help} for every management command of a kehu.* app."""
    from django.core.management import get_commands, load_command_class

    found = sorted((name, app) for name, app in get_commands().items()
                   if app.startswith("kehu."))
    return {name: (load_command_class(app, name).help.strip().splitlines() or [""])[0]
            for name, app in found}


def _django(args: list[str]) -> int:
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["kehu", *args])
    except SystemExit as exc:  # a command's exit status, returned rather than raised
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 1
        return exc.code or 0
    return 0


def fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
