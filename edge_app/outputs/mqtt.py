"""`--mqtt mqtt[s]://[user:pass@]host[:port]`: readings to an MQTT broker, with Home Assistant discovery.

Topics (DESIGN.md): <prefix>/<id>/reading (each event, QoS 1), <prefix>/<id>/state (the latest, retained),
<prefix>/<id>/availability (online/offline, retained, offline as the last will), and discovery configs under
homeassistant/ (retained). paho-mqtt's own thread (loop_start) connects and reconnects with backoff; a second
thread moves readings through the on-disk spool to the broker one at a time, in order, so the frame loop only
ever puts an event on a queue.
"""

from __future__ import annotations

import argparse
import logging
import queue
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .. import cli
from ..package import version
from .base import Event, FrameView, Output, OutputError, flag_type
from .ha_discovery import DeviceState, discovery, page_url, state_of
from .jsonl import to_json
from .spool import Spool, SpoolBusy

if TYPE_CHECKING:
    from ..app import App, AppConfig

log = logging.getLogger("edge_app")
DEFAULT_PREFIX = "house_numbers"
DEFAULT_SPOOL = Path.home() / ".local" / "state" / "house-numbers" / "mqtt-spool"
TOPIC_PART = re.compile(r"^[A-Za-z0-9_.-]+$")  # no '/', '+', '#' or spaces: one topic level, safe for discovery ids


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:  # for logs: never the password
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_mqtt_url(text: str) -> MqttUrl:
    """mqtt[s]://[user[:password]@]host[:port] -> MqttUrl; raises ValueError saying what is expected."""
    expected = "expected mqtt://[user:pass@]host[:port] or mqtts://... (e.g. mqtt://192.168.1.10)"
    parts = urlsplit(text)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"{text!r}: {expected}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535") from None
    tls = parts.scheme == "mqtts"
    return MqttUrl(parts.hostname, port or (8883 if tls else 1883), tls,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password is not None else None)


def topic_part(text: str) -> str:
    """A prefix or device id: one topic level of letters, digits, '_', '-', '.'."""
    if not TOPIC_PART.match(text):
        raise ValueError(f"{text!r}: use letters, digits, '_', '-' or '.' (one MQTT topic level)")
    return text


def default_device_id() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "device"


def _paho():
    try:
        import paho.mqtt.client as mqtt

        mqtt.CallbackAPIVersion  # noqa: B018 - only paho-mqtt 2.x has it
    except (ImportError, AttributeError):
        raise OutputError("--mqtt needs paho-mqtt 2.x: pip install 'paho-mqtt>=2.1,<3'") from None
    return mqtt


class MqttOutput(Output):
    """Policy: never disabled; undelivered readings wait in the spool (and survive a restart)."""

    key = "mqtt"
    max_failures = None

    def __init__(self, url: MqttUrl, *, prefix: str = DEFAULT_PREFIX, device_id: str | None = None,
                 ca: Path | None = None, cert: Path | None = None, keyfile: Path | None = None,
                 spool: Path | None = None, spool_max: int = 10_000, retry_max: float = 30.0,
                 flush_s: float = 3.0) -> None:
        mqtt = _paho()
        self.url = url
        self.device_id = device_id or default_device_id()
        self.base = f"{prefix}/{self.device_id}"
        self.prefix = prefix
        self.flush_s = flush_s  # at the end, how long to keep sending what waits before leaving it in the spool
        self.model: str | None = None
        self.app: App | None = None
        self.device = DeviceState(f"{prefix}/{self.device_id}")  # Home Assistant's other entities
        try:
            self.spool = Spool(spool or DEFAULT_SPOOL / self.device_id, spool_max)
        except SpoolBusy as err:
            raise OutputError(f"--mqtt: {err}") from None
        self.inbox: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.connected = threading.Event()
        self._wake = threading.Event()
        self._closing = False
        self._acked: dict[int, float] = {}  # mid -> when the broker acknowledged it
        self._problem: str | None = None  # the current outage, logged once
        self._lasting = False
        self._last_error: BaseException | None = None

        class Client(mqtt.Client):
            def reconnect(inner):  # noqa: N805 - keep why a connect failed (on_connect_fail does not say)
                try:
                    return super().reconnect()
                except OSError as err:
                    self._last_error = err
                    raise

        self.client = Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-{self.device_id}")
        if url.username:
            self.client.username_pw_set(url.username, url.password)
        if url.tls or ca or cert:
            try:
                self.client.tls_set(ca_certs=str(ca) if ca else None, certfile=str(cert) if cert else None,
                                    keyfile=str(keyfile) if keyfile else None)
            except (OSError, ValueError) as err:
                raise OutputError(f"--mqtt TLS set-up failed: {getattr(err, 'strerror', None) or err}") from None
        self.client.will_set(f"{self.base}/availability", "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=max(1, round(retry_max)))
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self._worker = threading.Thread(target=self._send_loop, name="mqtt-spool", daemon=True)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        m = parser.add_argument_group("MQTT (Home Assistant finds the sensor by itself through MQTT discovery)")
        m.add_argument("--mqtt", type=flag_type(parse_mqtt_url),
                       help="broker: mqtt://[user:pass@]host[:port] or mqtts://... for TLS (port 1883 / 8883)")
        m.add_argument("--mqtt-prefix", type=flag_type(topic_part), default=DEFAULT_PREFIX,
                       help="first topic level (default %(default)s)")
        m.add_argument("--mqtt-id", type=flag_type(topic_part),
                       help="device id, the second topic level (default: the hostname)")
        m.add_argument("--mqtt-ca", type=Path,
                       help="CA certificate file to check the broker with (TLS; default: the system's CAs)")
        m.add_argument("--mqtt-cert", type=Path, help="client certificate file, for brokers that ask for one (TLS)")
        m.add_argument("--mqtt-key", type=Path, help="the client certificate's private key file")
        m.add_argument("--mqtt-spool", type=Path,
                       help="folder where readings wait while the broker is away (default "
                       "~/.local/state/house-numbers/mqtt-spool/ID)")
        m.add_argument("--mqtt-spool-max", type=cli.positive_int, default=10_000,
                       help="readings the spool keeps at most; beyond, the oldest are dropped and counted (default "
                       "%(default)s)")
        m.add_argument("--mqtt-retry-max", type=cli.float_range(1, 3600), default=30.0,
                       help="longest wait in seconds between reconnect attempts; they start at 1 s and double "
                       "(default %(default)s)")

    @classmethod
    def from_config(cls, cfg: AppConfig) -> MqttOutput | None:
        if cfg.mqtt is None:
            return None
        return cls(cfg.mqtt, prefix=cfg.mqtt_prefix, device_id=cfg.mqtt_id, ca=cfg.mqtt_ca, cert=cfg.mqtt_cert,
                   keyfile=cfg.mqtt_key, spool=cfg.mqtt_spool, spool_max=cfg.mqtt_spool_max,
                   retry_max=cfg.mqtt_retry_max)

    def start(self, app: App) -> None:
        self.app, self.model = app, app.model.path.name
        self.client.connect_async(self.url.host, self.url.port, keepalive=30)
        self.client.loop_start()  # paho's thread: connects, retries the first connection, reconnects with backoff
        self._worker.start()

    def write(self, event: Event) -> None:
        self.inbox.put(event)  # never blocks: the spool thread does the disk and the network
        self._wake.set()

    def frame(self, view: FrameView) -> None:
        self.device.frame(view)  # two attribute writes: the spool thread publishes

    # paho callbacks (paho's network thread)
    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self._trouble(f"the broker at {self.url} refused the connection: {reason}"
                          " (check the user and password in --mqtt)", lasting=True)
            return
        app = self.app
        for topic, config in discovery(self.prefix, self.device_id, self.model, version(), page_url(app),
                                       app.model.card.training.get("licence") if app else None):
            client.publish(topic, to_json(config), qos=1, retain=True)
        self.device.forget()  # said again to a broker that may have lost them
        client.publish(f"{self.base}/availability", "online", qos=1, retain=True)
        self.connected.set()
        self._wake.set()
        if self._problem:
            log.info("mqtt: connected to %s again", self.url)
        else:
            log.info("mqtt: connected to %s, publishing under %s/", self.url, self.base)
        self._problem, self._lasting = None, False

    def _on_connect_fail(self, client, userdata) -> None:
        why = self._last_error
        text = f"{why.strerror or why}" if isinstance(why, OSError) else "no answer"
        self._trouble(f"cannot reach the broker at {self.url}: {text}", lasting=isinstance(why, ssl.SSLError))

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was and not self._closing:
            self._trouble(f"lost the broker at {self.url} ({reason})")
        elif not self._closing and not self._lasting:  # a refusal was logged by _on_connect already
            # the TCP connection stood, but the broker never acknowledged it (no CONNACK within the keepalive)
            self._trouble(f"the broker at {self.url} took the connection but never answered it ({reason})")

    def _on_publish(self, client, userdata, mid, reason, properties) -> None:
        self._acked[mid] = time.monotonic()
        self._wake.set()

    def _trouble(self, text: str, lasting: bool = False) -> None:
        """One log line per outage (and again only if the reason changes); readings wait in the spool meanwhile.

        `lasting`: a refusal or a TLS failure, which will not mend within the flush time at the end.
        """
        self._lasting = lasting
        if text != self._problem:
            log.warning("mqtt: %s; readings wait in the spool, retrying with backoff", text)
            self._problem = text

    # the spool thread
    def _send_loop(self) -> None:
        sending: tuple[int, int] | None = None  # (spool seq, mqtt mid) of the reading in flight
        deadline = None
        while True:
            self._wake.wait(0.25)
            self._wake.clear()
            while True:  # inbox -> spool (disk), in arrival order
                try:
                    self.spool.append(to_json(self.inbox.get_nowait().as_dict()).encode())
                except queue.Empty:
                    break
            if self._closing:
                deadline = deadline or time.monotonic() + self.flush_s
                if not self.spool or self._lasting or time.monotonic() > deadline:  # a broker away may come back
                    return
            if self.connected.is_set():
                self.device.publish(self.client, self.app, self._problem)
            head = self.spool.head()
            if head is None or not self.connected.is_set():
                continue
            if sending is None or sending[0] != head.seq:
                info = self.client.publish(f"{self.base}/reading", head.payload, qos=1)
                sending = (head.seq, info.mid)  # paho resends it itself after a reconnect: publish it once
            if self._acked.pop(sending[1], None) is not None:
                self.spool.pop()
                self.client.publish(f"{self.base}/state", state_of(head.payload), qos=1, retain=True)
                sending = None
                self._wake.set()  # the next one at once
            self._forget_old_acks()

    def _forget_old_acks(self) -> None:
        if len(self._acked) > 256:  # acks of state and discovery messages nobody waits for
            cutoff = time.monotonic() - 60
            for mid in [m for m, t in self._acked.items() if t < cutoff]:
                self._acked.pop(mid, None)

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._worker.is_alive():
            self._worker.join(self.flush_s + 5)
        while not self._worker.is_alive():  # never started, or done: what is still queued goes to the spool too
            try:
                self.spool.append(to_json(self.inbox.get_nowait().as_dict()).encode())
            except queue.Empty:
                break
        if self.connected.is_set():
            info = self.client.publish(f"{self.base}/availability", "offline", qos=1, retain=True)
            end = time.monotonic() + 2
            while info.mid not in self._acked and time.monotonic() < end and self.connected.is_set():
                time.sleep(0.02)
        self.client.disconnect()
        self.client.loop_stop()
        waiting, held = len(self.spool), self.spool.in_memory()
        if waiting - held:
            log.warning("mqtt: %d readings not yet delivered wait in %s for the next run", waiting - held,
                        self.spool.folder)
        if held:
            log.error("mqtt: %d readings not yet delivered could not be written to %s and are lost with this run",
                      held, self.spool.folder)
        self.spool.close()

    def lost(self) -> int:
        return self.spool.dropped + self.spool.in_memory()

