"""The cases of scripts/net_fault_pass.py; each module registers its own, and they run in the order below."""

from . import asking, auth, floods, malformed, secrets, state  # noqa: F401 - for their @case registrations
from .kit import CASES, PASSWORD, TOKEN, Device

ORDER = "SHFMAPWDB"  # secrets, who may ask, floods, malformed requests, authentication, processes, write-back, ...
CASES.sort(key=lambda c: (ORDER.index(c.id[0]), int(c.id[1:])))

__all__ = ["CASES", "PASSWORD", "TOKEN", "Device"]
