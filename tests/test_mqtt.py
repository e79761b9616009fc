"""MQTT on a real Mosquitto: topics, the spool, and the faults, each with nothing lost (Home Assistant's device:
tests/test_home_assistant.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from edge_app.outputs.mqtt import MqttUrl, parse_mqtt_url
from edge_app.outputs.spool import Spool, SpoolBusy
from tests.broker import Broker, Subscriber, retained
from tests.conftest import ROOT, copy_labelled
from tests.test_edge_app import SHIPPED, app, events


@pytest.fixture(scope="module")
def pictures(svhn, tmp_path_factory):
    """20 real recon/test pictures with their digitStruct.csv."""
    folder = tmp_path_factory.mktemp("mqtt-pictures")
    copy_labelled(svhn, folder, 20)
    return folder


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path / "broker")
    yield b
    b.kill()


def run_app(pictures, broker_url, tmp_path, *extra, popen=False, fps=None, device="gate"):
    args = ["--model", SHIPPED, "--source", pictures, "--boxes", "--threshold", "0", "--no-quiet",
            "--jsonl", tmp_path / "r.jsonl", "--mqtt", broker_url, "--mqtt-id", device,
            "--mqtt-spool", tmp_path / "spool", *extra]
    if fps:
        args += ["--fps", fps]
    return app(*args, popen=popen)


def frames(readings: list[dict]) -> list[int]:
    """Frame indices in arrival order, a QoS 1 duplicate (a resend after a lost ack) counted once."""
    seen, order = set(), []
    for r in readings:
        if r["frame"] not in seen:
            seen.add(r["frame"])
            order.append(r["frame"])
    return order


def test_url_parsing():
    assert parse_mqtt_url("mqtt://broker") == MqttUrl("broker", 1883, False)
    assert parse_mqtt_url("mqtts://u%40x:p%3Aw@10.0.0.2:1234") == MqttUrl("10.0.0.2", 1234, True, "u@x", "p:w")
    assert str(parse_mqtt_url("mqtt://me:secret@h")) == "mqtt://me@h:1883"  # logs never show the password
    for bad in ("http://h", "mqtt://", "mqtt://h:99999", "h:1883", "mqtt://h/path"):
        with pytest.raises(ValueError, match="mqtt"):
            parse_mqtt_url(bad)


def test_spool_keeps_order_across_restarts_and_counts_overflow(tmp_path, caplog):
    spool = Spool(tmp_path, limit=3)
    for i in range(5):
        spool.append(b"%d" % i)
    assert spool.dropped == 2 and "dropped the oldest" in caplog.text
    (tmp_path / ".000000000009.msg.tmp").write_bytes(b"half")  # a write cut short by a power cut
    spool.close()
    again = Spool(tmp_path, limit=3)
    assert [e.payload for e in again.entries] == [b"2", b"3", b"4"] and again.in_memory() == 0
    again.pop()
    again.append(b"5")
    again.close()
    assert [e.payload for e in Spool(tmp_path, limit=3).entries] == [b"3", b"4", b"5"]
    assert sorted(p.name for p in tmp_path.glob("*.msg"))[0] == "000000000003.msg"


def test_a_second_process_on_the_same_spool_refuses_to_start_and_loses_nothing(pictures, broker, tmp_path):
    """Two apps on one spool would number their files alike and overwrite each other's readings."""
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from edge_app.outputs.spool import Spool; "
                               f"s = Spool({str(tmp_path / 'spool')!r}); s.append(b'kept'); print('held', flush=True); "
                               "sys.stdin.read()"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = run_app(pictures, broker.url, tmp_path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert "another process uses the mqtt spool" in proc.stderr and "--mqtt-id" in proc.stderr
        assert not (tmp_path / "r.jsonl").exists() or not events(tmp_path / "r.jsonl")  # it read nothing
    finally:
        holder.communicate("", timeout=10)
    assert [p.read_bytes() for p in (tmp_path / "spool").glob("*.msg")] == [b"kept"]
    with pytest.raises(SpoolBusy):  # in one process too: a second Spool on a held folder
        held = Spool(tmp_path / "spool")
        Spool(tmp_path / "spool")
    held.close()


def test_readings_state_availability_and_discovery(pictures, broker, tmp_path):
    broker.start()
    sub = Subscriber(broker)
    proc = run_app(pictures, broker.url, tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = events(tmp_path / "r.jsonl")
    assert len(written) == 20
    assert sub.wait_for(lambda s: len(s.readings()) >= 20)
    assert sub.readings() == written  # every event, in order, exactly as JSONL has it
    assert sub.on("/availability")[-1] == b"offline" and b"online" in sub.on("/availability")
    sub.close()
    kept = retained(broker)
    assert json.loads(kept["house_numbers/gate/state"]) == written[-1]
    assert kept["house_numbers/gate/availability"] == b"offline"
    reading = json.loads(kept["homeassistant/sensor/house_numbers_gate/reading/config"])
    confidence = json.loads(kept["homeassistant/sensor/house_numbers_gate/confidence/config"])
    assert reading["state_topic"] == "house_numbers/gate/state"
    assert reading["value_template"] == "{{ value_json.reading }}"
    assert reading["availability_topic"] == "house_numbers/gate/availability"
    assert reading["device"]["identifiers"] == confidence["device"]["identifiers"] == ["house_numbers_gate"]
    assert reading["device"]["model"] == "house_numbers.tflite" and confidence["unit_of_measurement"] == "%"
    assert not list((tmp_path / "spool").glob("*.msg"))  # all delivered, nothing left waiting


def wait_lines(path, n, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {n} lines")


def finish(proc, timeout=90):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return err


def test_broker_down_at_start_then_up(pictures, broker, tmp_path):
    broker.start()
    sub = Subscriber(broker)  # a persistent session: the broker keeps what comes while the subscriber is away
    broker.stop()
    proc = run_app(pictures, broker.url, tmp_path, "--mqtt-retry-max", "1", popen=True, fps=6)
    wait_lines(tmp_path / "r.jsonl", 4)  # readings made while there is no broker
    broker.start()
    err = finish(proc)
    assert err.count("cannot reach the broker") == 1 and "Connection refused" in err  # one line per outage
    assert sub.wait_for(lambda s: len(frames(s.readings())) >= 20)
    assert frames(sub.readings()) == list(range(20))
    assert [e["frame"] for e in events(tmp_path / "r.jsonl")] == list(range(20))
    sub.close()


def test_broker_killed_mid_run_and_restarted(pictures, broker, tmp_path):
    broker.start()
    sub = Subscriber(broker)
    proc = run_app(pictures, broker.url, tmp_path, "--mqtt-retry-max", "1", popen=True, fps=6)
    assert sub.wait_for(lambda s: len(s.readings()) >= 3)
    broker.kill()
    wait_lines(tmp_path / "r.jsonl", len(sub.readings()) + 4)  # readings made during the outage
    broker.start()
    err = finish(proc)
    assert err.count("lost the broker") == 1 and "connected to" in err.split("lost the broker")[1]
    assert sub.wait_for(lambda s: len(frames(s.readings())) >= 20)
    assert frames(sub.readings()) == list(range(20))  # every reading, the outage's included, in order
    sub.close()


@pytest.fixture
def spool_mount(tmp_path):
    """A small tmpfs at tmp_path/spool (root only), unmounted afterwards."""
    where = tmp_path / "spool"
    where.mkdir()

    def mount(*options):
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(where)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.fail(f"this test mounts a small tmpfs, which needs root: {proc.stderr.strip()}")
        return where

    yield mount
    subprocess.run(["umount", str(where)], check=False, capture_output=True)


@pytest.mark.parametrize("problem", ["read-only", "full"])
def test_spool_folder_read_only_or_full(pictures, broker, tmp_path, spool_mount, problem):
    if problem == "read-only":
        spool = spool_mount("ro", "size=1m")
    else:
        spool = spool_mount("size=64k")
        fd = os.open(spool / "filler", os.O_WRONLY | os.O_CREAT)
        with pytest.raises(OSError, match="No space left"):
            while True:
                os.write(fd, b"\0" * 4096)
        os.close(fd)
    broker.start()
    sub = Subscriber(broker)
    broker.stop()
    proc = run_app(pictures, broker.url, tmp_path, "--mqtt-retry-max", "1", popen=True, fps=6)
    wait_lines(tmp_path / "r.jsonl", 4)
    broker.start()
    err = finish(proc)
    why = "Read-only file system" if problem == "read-only" else "No space left on device"
    assert err.count(f"cannot write in {spool} ({why})") == 1, err
    assert sub.wait_for(lambda s: len(frames(s.readings())) >= 20)
    assert frames(sub.readings()) == list(range(20))  # held in memory, delivered in order
    sub.close()


def test_wrong_password_is_one_line_and_the_app_goes_on(pictures, tmp_path):
    broker = Broker(tmp_path / "broker", users={"camera": "right"}).start()
    try:
        proc = run_app(pictures, f"mqtt://camera:Xq7-bad-pass@127.0.0.1:{broker.port}", tmp_path)
    finally:
        broker.kill()
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("refused the connection") == 1 and "Not authorized" in proc.stderr
    assert "Xq7-bad-pass" not in proc.stderr  # the password is never logged
    assert [e["frame"] for e in events(tmp_path / "r.jsonl")] == list(range(20))
    assert len(list((tmp_path / "spool").glob("*.msg"))) == 20  # kept for when the password is fixed


def test_tls_with_and_without_the_right_ca(pictures, tmp_path):
    from tests.broker import make_certificates

    certs = make_certificates(tmp_path / "certs")
    broker = Broker(tmp_path / "broker", tls=certs).start()
    try:
        url = f"mqtts://127.0.0.1:{broker.tls_port}"
        proc = run_app(pictures, url, tmp_path)  # the system CAs do not know the broker's CA
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.count("cannot reach the broker") == 1 and "CERTIFICATE_VERIFY_FAILED" in proc.stderr
        assert len(events(tmp_path / "r.jsonl")) == 20
        sub = Subscriber(broker)
        proc = run_app(pictures, url, tmp_path, "--mqtt-ca", certs["ca"])
        assert proc.returncode == 0, proc.stderr
        assert sub.wait_for(lambda s: len(s.readings()) >= 40)  # the 20 spooled by the failed run, then 20 new
        assert [r["frame"] for r in sub.readings()] == list(range(20)) * 2
        sub.close()
    finally:
        broker.kill()


def test_sigterm_sends_offline_and_keeps_the_spool(pictures, broker, tmp_path):
    broker.start()
    sub = Subscriber(broker)
    proc = run_app(pictures, broker.url, tmp_path, popen=True, fps=5)
    assert sub.wait_for(lambda s: len(s.readings()) >= 2)
    proc.send_signal(signal.SIGTERM)
    finish(proc)
    assert sub.wait_for(lambda s: s.on("/availability")[-1:] == [b"offline"])
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert all(line.endswith("}") for line in lines) and frames(sub.readings()) == list(range(len(lines)))
    # Now without a broker: SIGTERM leaves every undelivered reading in the spool, whole, for the next run.
    broker.stop()
    (tmp_path / "r.jsonl").unlink()
    proc = run_app(pictures, broker.url, tmp_path, popen=True, fps=5)
    wait_lines(tmp_path / "r.jsonl", 3)
    proc.send_signal(signal.SIGTERM)
    err = finish(proc)
    written = events(tmp_path / "r.jsonl")
    spooled = [json.loads(p.read_bytes()) for p in sorted((tmp_path / "spool").glob("*.msg"))]
    assert spooled == written and f"{len(written)} readings not yet delivered" in err
    broker.start()
    proc = run_app(pictures / "1.png", broker.url, tmp_path)
    assert proc.returncode == 0, proc.stderr
    n = len(lines)
    assert sub.wait_for(lambda s: len(s.readings()) >= n + len(written) + 1)
    assert [r["frame"] for r in sub.readings()[n:]] == [e["frame"] for e in written] + [0]
    sub.close()


def test_paho_is_needed_only_for_mqtt(pictures, tmp_path):
    import os
    import sys

    from tests.test_edge_app import FAKES, ROOT

    code = "import sys, edge_app.__main__, edge_app.outputs; print('paho' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    imported = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert imported.stdout.strip() == "False", imported.stderr
    without = {"PYTHONPATH": os.pathsep.join([str(FAKES / "no_paho"), str(FAKES / "blocked"), str(ROOT)])}
    proc = app("--model", SHIPPED, "--source", pictures / "1.png", "--scan", "--jsonl", tmp_path / "r.jsonl",
               env=without)
    assert proc.returncode == 0, proc.stderr  # no paho-mqtt: everything but MQTT works
    proc = app("--model", SHIPPED, "--source", pictures / "1.png", "--scan", "--mqtt", "mqtt://127.0.0.1", env=without)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "pip install 'paho-mqtt>=2.1,<3'" in proc.stderr


def test_a_broker_that_never_answers_the_connection_is_logged_once_and_retried(pictures, tmp_path, caplog):
    """A port that takes the TCP connection but never sends CONNACK (a wedged broker, the wrong service)."""
    import logging
    import socket
    import threading

    from edge_app.outputs.mqtt import MqttOutput

    server = socket.create_server(("127.0.0.1", 0))
    taken = []
    threading.Thread(target=lambda: [taken.append(server.accept()[0]) for _ in range(10)], daemon=True).start()
    caplog.set_level(logging.WARNING, logger="edge_app")
    out = MqttOutput(parse_mqtt_url(f"mqtt://127.0.0.1:{server.getsockname()[1]}"), spool=tmp_path / "s",
                     device_id="gate")
    out.client.connect_async("127.0.0.1", server.getsockname()[1], keepalive=1)  # the app uses 30 s
    out.client.loop_start()
    try:
        deadline = time.time() + 20
        while len(taken) < 2 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        out.client.loop_stop()
        out.spool.close()
        server.close()
    lines = [r.message for r in caplog.records if "never answered" in r.message]
    assert len(taken) >= 2 and len(lines) == 1  # retried, and said once
