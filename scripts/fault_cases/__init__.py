"""The cases of scripts/fault_pass.py, in the order of issue 14's list; each module registers its own."""

from . import consistency, fuzz, interrupts, labels, outputs, pictures  # noqa: F401 - for their @case registrations
from .kit import CASES


def _order(case) -> tuple[int, int]:
    section, number = case.id.split(".")
    return (int(section) if section.isdigit() else 99, int(number))


CASES.sort(key=_order)

__all__ = ["CASES"]
