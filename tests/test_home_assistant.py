"""Home Assistant's device over MQTT (edge_app/outputs/ha_discovery.py): every discovery payload has only the keys
Home Assistant documents, ids it accepts for any hostname, and states that follow what the camera sees. A real
Mosquitto and the real app."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from edge_app.outputs.ha_discovery import EXPIRE_AFTER, IN_VIEW_FOR, discovery
from tests.broker import Broker, Subscriber, free_port, retained
from tests.test_edge_app import SHIPPED, _scene, app


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path / "broker")
    yield b
    b.kill()


# The keys Home Assistant's MQTT integration documents (home-assistant.io/integrations/sensor.mqtt,
# binary_sensor.mqtt, image.mqtt; the device block is the same for all).
COMMON = {"name", "unique_id", "device", "availability_topic", "icon", "entity_category", "json_attributes_topic",
          "json_attributes_template", "value_template", "state_topic"}
PLATFORM_KEYS = {"sensor": COMMON | {"unit_of_measurement", "state_class", "expire_after", "device_class"},
                 "binary_sensor": COMMON | {"payload_on", "payload_off", "expire_after", "off_delay", "device_class"},
                 "image": (COMMON - {"state_topic", "value_template"}) | {"image_topic", "content_type"}}
DEVICE_KEYS = {"identifiers", "name", "manufacturer", "model", "sw_version", "hw_version", "configuration_url",
               "suggested_area", "via_device", "model_id", "serial_number", "connections"}


@pytest.mark.parametrize("device_id", ["gate.lan", "gate", "Front-Door_2", "a.b.c"])
def test_discovery_ids_are_what_home_assistant_accepts_for_any_hostname(device_id):
    """HA's discovery topic takes only [a-zA-Z0-9_-] in its node and object ids; the state topics keep the id."""
    for topic, config in discovery("house_numbers", device_id, "house_numbers.tflite", "0.2.0"):
        prefix, component, node, obj, last = topic.split("/")
        assert (prefix, last) == ("homeassistant", "config") and component in PLATFORM_KEYS
        assert re.fullmatch(r"[a-zA-Z0-9_-]+", node) and re.fullmatch(r"[a-zA-Z0-9_-]+", obj)
        assert re.fullmatch(r"[a-zA-Z0-9_-]+", config["unique_id"])
        topic_key = "image_topic" if component == "image" else "state_topic"
        assert config[topic_key].startswith(f"house_numbers/{device_id}/")


def test_home_assistant_gets_a_full_device_whose_reading_goes_away(svhn, broker, tmp_path):
    """Every discovery payload has only keys HA documents; the device names its software, page and model; "number
    in view" goes ON with a reading and back OFF when nothing has passed for a while; the last reading's picture
    and the diagnostics are retained for HA."""
    broker.start()
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    frame, number = _scene(svhn, "8.png")
    for i in range(3):
        Image.fromarray(frame).save(frames_dir / f"{i:03d}.png")
    for i in range(3, 3 + int(IN_VIEW_FOR * 10) + 20):  # then empty frames for longer than IN_VIEW_FOR at 10 fps
        Image.fromarray(np.full_like(frame, 90)).save(frames_dir / f"{i:03d}.png")
    sub = Subscriber(broker, topics=("house_numbers/#",))
    port = free_port()
    proc = app("--model", SHIPPED, "--source", frames_dir, "--roi", "96,56,128,128", "--fps", "10", "--mqtt",
               broker.url, "--mqtt-id", "gate.lan", "--mqtt-spool", tmp_path / "spool", "--http", f"0.0.0.0:{port}",
               "--http-token", "x" * 20, "--quiet")
    sub.close()
    assert proc.returncode == 0, proc.stderr
    kept = retained(broker)
    configs = {t: json.loads(p) for t, p in kept.items() if t.startswith("homeassistant/")}
    assert {t.split("/")[1] for t in configs} == {"sensor", "binary_sensor", "image"} and len(configs) == 10
    for topic, config in configs.items():
        documented = PLATFORM_KEYS[topic.split("/")[1]]
        assert set(config) <= documented, (topic, set(config) - documented)
        assert set(config["device"]) <= DEVICE_KEYS and config["device"]["sw_version"]
        assert config["device"]["configuration_url"].endswith(f":{port}/")
    reading = configs["homeassistant/sensor/house_numbers_gate_lan/reading/config"]
    assert reading["expire_after"] == EXPIRE_AFTER  # the number does not stick once it is gone
    diagnostic = [c for c in configs.values() if c.get("entity_category") == "diagnostic"]
    assert {c["unique_id"].rsplit("_", 1)[-1] for c in diagnostic} >= {"fps", "latency", "uptime", "frames", "model"}
    seen = [p for p in sub.on("/in_view")]
    assert seen[-2:] == [b"ON", b"OFF"] and kept["house_numbers/gate.lan/in_view"] == b"OFF", seen
    assert kept["house_numbers/gate.lan/snapshot"][:2] == b"\xff\xd8"  # the reading's frame, JPEG
    diagnostics = json.loads(kept["house_numbers/gate.lan/diagnostics"])
    assert diagnostics["model"] == "house_numbers.tflite" and "non-commercial" in diagnostics["licence"]
    assert json.loads(kept["house_numbers/gate.lan/state"])["reading"] == number
