"""Who `kehu import` and `kehu export` act as: `accounts.commands.acting_user`."""

from kehu.accounts.commands import acting_user

__all__ = ["acting_user"]
