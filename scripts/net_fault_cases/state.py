"""Two processes, config write-back, discovery ids and a broker that never answers."""

from __future__ import annotations

import re
import socket
import threading
import time

from tests.broker import retained
from tests.test_edge_app import SHIPPED, app
from tests.test_http import start_app

from .kit import SVHN, TOKEN, case, set_region_and_stop


@case("P1", "a second app on the device's config file (after the page wrote it back)",
      "exit 2 in one line; the first keeps reading")
def second_on_config(d, tmp):
    before = d.get("/api/status")[1]["frames"]
    proc = app("--config", d.config, "--max-frames", "3")
    if "another house-numbers process" not in proc.stderr:
        return False, proc.stderr.strip()[:100]
    time.sleep(1.0)
    after = d.get("/api/status")[1]["frames"]
    return proc.returncode == 2 and after > before, f"rc {proc.returncode}: {proc.stderr.strip()[:100]}"


@case("P2", "a second app with its own config on the device's MQTT spool", "exit 2; no reading of the first lost")
def second_on_spool(d, tmp):
    proc = app("--model", SHIPPED, "--source", SVHN / "recon" / "test", "--boxes", "--threshold", "0",
               "--max-frames", "5", "--mqtt", d.broker.url, "--mqtt-id", "gate.lan", "--mqtt-spool", d.tmp / "spool")
    return proc.returncode == 2 and "another process uses the mqtt spool" in proc.stderr, proc.stderr.strip()[:100]


@case("W1", "the config is a symlink to a 0600 file; the page sets the region", "still a link, still 0600, saved")
def write_back(d, tmp):
    real = tmp / "real.toml"
    real.write_text(d.config.read_text())
    real.chmod(0o600)
    link = tmp / "link" / "device.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    (tmp / "w1").mkdir()
    proc, base, _, _ = start_app(SVHN, tmp / "w1", "--config", link, "--http-token", TOKEN)
    code, answer = set_region_and_stop(proc, base)
    mode = real.stat().st_mode & 0o777
    ok = code == 200 and answer.get("saved") and link.is_symlink() and mode == 0o600
    return bool(ok), f"{code} saved={answer.get('saved')} link={link.is_symlink()} mode={oct(mode)}"


@case("W2", "a config whose roi line sits inside a multi-line string; the page sets the region",
      "applied, 'saved': false with the reason, file unchanged")
def write_back_string(d, tmp):
    folder = tmp / "w2"
    folder.mkdir()
    proc, base, config, _ = start_app(SVHN, folder, "--http-token", TOKEN)
    text = config.read_text().replace('roi = "16,56,128,128"\n',
                                      'note = """\nroi = "1,1,1,1"\n"""\nroi = "16,56,128,128"\n')
    config.write_text(text)
    code, answer = set_region_and_stop(proc, base)
    return code == 200 and answer.get("saved") is False and config.read_text() == text, f"{code} {answer}"


@case("D1", "--mqtt-id gate.lan (the default id is the hostname, which may hold dots)",
      "discovery topics and unique ids in Home Assistant's [a-zA-Z0-9_-]")
def discovery(d, tmp):
    topics = [t for t in retained(d.broker, ("homeassistant/#",)) if "gate" in t]
    valid = r"homeassistant/(sensor|binary_sensor|image)/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config"
    bad = [t for t in topics if not re.fullmatch(valid, t)]
    return bool(topics) and not bad, f"{len(topics)} topics, {len(bad)} invalid {bad[:2]}; e.g. {topics[0]}"


@case("B1", "a broker port that takes the connection and never answers (no CONNACK)", "logged once, retried")
def mute_broker(d, tmp):
    from edge_app.outputs.mqtt import MqttOutput, parse_mqtt_url

    server = socket.create_server(("127.0.0.1", 0))
    taken = []
    threading.Thread(target=lambda: [taken.append(server.accept()[0]) for _ in range(10)], daemon=True).start()
    import logging

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("edge_app").addHandler(handler)
    out = MqttOutput(parse_mqtt_url(f"mqtt://127.0.0.1:{server.getsockname()[1]}"), spool=tmp / "b1", device_id="b1")
    out.client.connect_async("127.0.0.1", server.getsockname()[1], keepalive=1)
    out.client.loop_start()
    deadline = time.time() + 20
    while len(taken) < 2 and time.time() < deadline:
        time.sleep(0.1)
    out.client.loop_stop()
    out.spool.close()
    server.close()
    logging.getLogger("edge_app").removeHandler(handler)
    said = sum("never answered" in r.getMessage() for r in records)
    return len(taken) >= 2 and said == 1, f"{len(taken)} connections, {said} log lines"
