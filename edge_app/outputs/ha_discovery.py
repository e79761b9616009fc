"""Home Assistant over MQTT: the discovery configs of the device and its entities (as the MQTT integration's
documentation lists their keys), and the states of the entities besides the reading.

One device ("House numbers <id>") with:
- `sensor` reading (the number; its attributes are the whole event) and confidence (%): both expire when nothing
  has been read for EXPIRE_AFTER seconds, so the reading does not stick once the number is gone;
- `binary_sensor` number in view: ON while readings pass the gate, OFF after IN_VIEW_FOR seconds without one;
- `image` last reading: the annotated frame of the latest reported reading (JPEG);
- diagnostics (entity_category diagnostic): fps, latency, uptime, frames, model, last error, from one JSON topic
  published every DIAGNOSTICS_EVERY seconds.

Home Assistant accepts only [a-zA-Z0-9_-] in a discovery topic's node and object ids, so a device id like
'gate.lan' is written 'gate_lan' there (and in the unique ids); the state topics keep the id as given.
"""

from __future__ import annotations

import io
import json
import re
import socket
import time
from typing import TYPE_CHECKING

from .annotate import annotate_view
from .jsonl import to_json

if TYPE_CHECKING:
    from ..app import App
    from .base import FrameView

CONFIDENCE_TEMPLATE = ("{{ (value_json.confidence * 100) | round(1) if value_json.confidence is not none "
                       "else none }}")  # none: a number has gone, Home Assistant shows unknown
EXPIRE_AFTER = 120  # seconds without a reading before the reading and confidence sensors go unavailable
IN_VIEW_FOR = 5.0  # seconds a passing reading keeps "number in view" ON
DIAGNOSTICS_EVERY = 30.0  # seconds between diagnostics messages
DIAGNOSTICS = (  # (object id, name, value key in the diagnostics JSON, unit, icon)
    ("fps", "Frames per second", "fps", "fps", "mdi:speedometer"),
    ("latency", "Frame latency", "latency_ms", "ms", "mdi:timer-outline"),
    ("uptime", "Uptime", "uptime_s", "s", "mdi:clock-outline"),
    ("frames", "Frames read", "frames", None, "mdi:counter"),
    ("model", "Reader model", "model", None, "mdi:brain"),
    ("last_error", "Last problem", "last_error", None, "mdi:alert-circle-outline"),
)


def node_id(prefix: str, device_id: str) -> str:
    """The discovery node id of a device: Home Assistant's characters only."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{prefix}_{device_id}")


def discovery(prefix: str, device_id: str, model: str | None, version: str = "",
              configuration_url: str | None = None, licence: str | None = None) -> list[tuple[str, dict]]:
    """(topic, config) of every entity, to publish retained under homeassistant/."""
    base = f"{prefix}/{device_id}"
    node = node_id(prefix, device_id)
    device = {"identifiers": [node], "name": f"House numbers {device_id}", "manufacturer": "house-numbers edge_app",
              "model": model or "house-number reader", "sw_version": version}
    if configuration_url:
        device["configuration_url"] = configuration_url
    common = {"availability_topic": f"{base}/availability", "device": device}
    configs = [
        ("sensor", "reading", {"name": "House number", "state_topic": f"{base}/state", "icon": "mdi:numeric",
                               "value_template": "{{ value_json.reading }}", "json_attributes_topic": f"{base}/state",
                               "expire_after": EXPIRE_AFTER}),
        ("sensor", "confidence", {"name": "House number confidence", "state_topic": f"{base}/state",
                                  "unit_of_measurement": "%", "state_class": "measurement",
                                  "value_template": CONFIDENCE_TEMPLATE,
                                  "expire_after": EXPIRE_AFTER}),
        ("binary_sensor", "in_view", {"name": "Number in view", "state_topic": f"{base}/in_view",
                                      "payload_on": "ON", "payload_off": "OFF", "icon": "mdi:eye"}),
        ("image", "snapshot", {"name": "Last reading", "image_topic": f"{base}/snapshot",
                               "content_type": "image/jpeg"}),
    ]
    for obj, name, key, unit, icon in DIAGNOSTICS:
        config = {"name": name, "state_topic": f"{base}/diagnostics", "entity_category": "diagnostic", "icon": icon,
                  "value_template": f"{{{{ value_json.{key} }}}}"}
        if unit:
            config["unit_of_measurement"] = unit
        if key == "model" and licence:
            config["json_attributes_topic"] = f"{base}/diagnostics"
            config["json_attributes_template"] = "{{ {'licence': value_json.licence} | tojson }}"
        configs.append(("sensor", obj, config))
    return [(f"homeassistant/{platform}/{node}/{obj}/config",
             {**common, **config, "unique_id": f"{node}_{obj}"}) for platform, obj, config in configs]


def state_of(payload: bytes) -> bytes:
    """The retained state an event leaves: the event itself, but after a live number's "gone" the number still in
    view, or none (a null reading, which Home Assistant shows as unknown) when nothing is."""
    event = json.loads(payload)
    if event.get("event") != "gone":
        return payload
    still = event.get("in_view") or []
    event.update(left=event["reading"], reading=still[0] if still else None, confidence=None, digit_confidences=[])
    return to_json(event).encode()


def page_url(app: App | None) -> str | None:
    """The status page's address for Home Assistant's "visit device" link, when --http serves one."""
    if app is None or not app.cfg.http:
        return None
    host, port = app.cfg.http
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


class DeviceState:
    """Number in view, the last reading's picture and the diagnostics: noted by the frame loop (attribute writes
    only), published by the MQTT output's own thread."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._passed_at = -1e9  # monotonic time of the last frame whose reading passed the gate
        self._snapshot: FrameView | None = None  # the latest reported reading's frame, encoded when published
        self.forget()

    def forget(self) -> None:
        """Publish everything again at the next chance (a new connection)."""
        self._in_view: str | None = None
        self._diagnostics_at = -1e9

    def frame(self, view: FrameView) -> None:
        if view.passed:
            self._passed_at = time.monotonic()
        if any(e.event != "gone" for e in view.events) and view.image is not None:
            self._snapshot = view

    def publish(self, client, app: App | None, problem: str | None) -> None:
        now = time.monotonic()
        in_view = "ON" if now - self._passed_at < IN_VIEW_FOR else "OFF"
        if in_view != self._in_view:
            client.publish(f"{self.base}/in_view", in_view, qos=1, retain=True)
            self._in_view = in_view
        view, self._snapshot = self._snapshot, None
        if view is not None:
            buffer = io.BytesIO()
            annotate_view(view).save(buffer, format="JPEG", quality=80)
            client.publish(f"{self.base}/snapshot", buffer.getvalue(), qos=0, retain=True)
        if now - self._diagnostics_at >= DIAGNOSTICS_EVERY and app is not None:
            self._diagnostics_at = now
            s = app.summary.as_dict()
            client.publish(f"{self.base}/diagnostics", to_json({
                "fps": round(app.summary.recent_fps, 1) if app.summary.recent_fps else None,
                "latency_ms": round(s["latency_ms"]["p50"], 2) if s["latency_ms"] else None,
                "uptime_s": round(time.time() - app.started), "frames": s["frames"], "skipped": s["skipped"],
                "model": app.model.path.name, "licence": app.model.card.training.get("licence"),
                "last_error": problem or ""}), qos=0, retain=True)
