"""systemd's notify protocol in a few lines: READY=1 once running, WATCHDOG=1 from the frame loop, STOPPING=1.

Under `Type=notify` with `WatchdogSec=`, systemd sets $NOTIFY_SOCKET (a unix datagram socket; a leading
"@" names the abstract namespace) and $WATCHDOG_USEC; a loop that stops pinging for that long is killed
and restarted. Outside systemd every call does nothing. (sd_notify(3); no libsystemd needed.)
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger("edge_app")


class Watchdog:
    """Notifies systemd; ping() sends WATCHDOG=1 at most every quarter of WatchdogSec, however fast frames come."""

    def __init__(self, env: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic):
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        for_us = env.get("WATCHDOG_PID", str(os.getpid())) == str(os.getpid())  # not a parent's watchdog
        self.period = int(usec) / 1e6 / 4 if usec.isdigit() and int(usec) > 0 and for_us else None
        self._clock = clock
        self._last: float | None = None
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) if self._address else None
        if self._socket is not None:
            self._socket.setblocking(False)  # a receiver that does not read must never stall the frame loop

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def notify(self, message: str) -> None:
        """Send one datagram; a vanished or full socket is logged at debug level, never fatal."""
        if self._socket is None:
            return
        try:
            self._socket.sendto(message.encode(), self._address)
        except OSError as err:
            log.debug("sd_notify %s failed: %s", message, err)

    def ready(self) -> None:
        self.notify("READY=1")

    def ping(self) -> None:
        """Call once per frame (and while reconnecting): sends WATCHDOG=1 when a quarter period has passed."""
        if self.period is None:
            return
        now = self._clock()
        if self._last is None or now - self._last >= self.period:
            self._last = now
            self.notify("WATCHDOG=1")

    def close(self) -> None:
        self.notify("STOPPING=1")
        if self._socket is not None:
            self._socket.close()
            self._socket = None
