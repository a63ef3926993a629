"""`kehu demo [--customers N] [--seed S]`: deterministic demo data (the same seed, the same rows)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from kehu.core.commands import KehuCommand
from kehu.demo import DEFAULT_CUSTOMERS, DEFAULT_SEED
from kehu.demo.jobs import load_in_foreground


class Command(KehuCommand):
    help = "生成演示数据：销售团队和客户，同一种子数据相同 · load demo data, the same for the same seed"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)

    def handle(self, *args: Any, customers: int, seed: int, **options: Any) -> None:
        if customers < 0:
            raise CommandError("--customers 不能为负数")
        load_in_foreground(customers, seed, out=self.stdout)
