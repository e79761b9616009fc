"""The status page and its JSON API on a running app (fake Pi camera), and the faults: tokens, bad regions, a taken
port."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from edge_app.config import tomllib
from tests.broker import free_port
from tests.test_edge_app import SHIPPED, _scene, app

LEFT, RIGHT = (16, 56, 128, 128), (176, 56, 128, 128)
TOKEN = "s3cret-token"


def two_numbers(svhn, path):
    """A 320x240 frame with one real house number on the left and another on the right; returns their readings."""
    left, a = _scene(svhn, "2.png", roi=LEFT)
    right, b = _scene(svhn, "8.png", roi=RIGHT)
    frame = left.copy()
    x, y, w, h = RIGHT
    frame[y : y + h, x : x + w] = right[y : y + h, x : x + w]
    np.save(path, frame[None])
    return a, b


def start_app(svhn, tmp_path, *extra):
    """The app on a fake Pi camera showing two numbers, reading the left one, with --http and a config file."""
    frames = tmp_path / "frames.npy"
    readings = two_numbers(svhn, frames)
    port = free_port()
    config = tmp_path / "device.toml"
    config.write_text(f'# the gate camera\nsource = "picamera"\nsize = "320x240"\nroi = "16,56,128,128"\n'
                      f'model = "{SHIPPED}"\nthreshold = 0\nsmooth = "1/1"\nfps = 20\nquiet = true\n')
    proc = app("--config", config, "--http", port, *extra, env={"FAKE_PICAMERA_FRAMES": str(frames)}, popen=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise AssertionError(f"the app did not serve on {port}: {proc.communicate()[1]}") from None
            time.sleep(0.1)
    return proc, base, config, readings


def request(url, method="GET", body: bytes | None = None, headers=None):
    """(status, parsed JSON or raw bytes) of one HTTP request."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, data, kind = r.status, r.read(), r.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        status, data, kind = err.code, err.read(), err.headers["Content-Type"]
    return status, json.loads(data) if kind == "application/json" else data


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def served(svhn, tmp_path_factory):
    """One app with a token for the API tests of this module."""
    proc, base, config, readings = start_app(svhn, tmp_path_factory.mktemp("http"), "--http-token", TOKEN)
    yield base, config, readings
    stop(proc)


JSON = {"Content-Type": "application/json"}


def api(base, path, method="GET", body=None, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return request(base + path, method, body, {**headers, **(JSON if body is not None else {})})


def wait_status(base, check, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body = api(base, "/api/status")
        if status == 200 and check(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"status never matched: {body}")


def test_status_readings_and_snapshot(served):
    base, _, (left, _) = served
    s = wait_status(base, lambda s: s["latest"] is not None and s["fps"])
    assert s["latest"]["reading"] == left and s["roi"] == list(LEFT) and s["mode"] == "roi"
    assert s["frame_size"] == [320, 240] and s["model"] == "house_numbers.tflite" and "non-commercial" in s["licence"]
    assert 0 < s["fps"] <= 21 and s["latency_ms"] > 0 and s["uptime_s"] > 0  # --fps 20 caps it
    status, recent = api(base, "/api/readings?limit=5")
    assert status == 200 and recent[0]["reading"] == left and set(recent[0]) >= {"time", "frame", "roi", "confidence"}
    assert api(base, "/api/readings?limit=0")[0] == 400 and api(base, "/api/readings?limit=x")[0] == 400
    status, jpeg = api(base, "/snapshot.jpg")
    assert status == 200 and jpeg[:2] == b"\xff\xd8"
    picture = np.asarray(Image.open(__import__("io").BytesIO(jpeg)))
    assert picture.shape == (240, 320, 3)
    x, y, w, h = LEFT
    assert picture[y + h // 2, x, 1] > 200 and picture[y + h // 2, x, 0] < 80  # the region drawn in green
    assert api(base, "/snapshot.jpg")[1] == jpeg  # within a second: the same encoding, not a new one
    page = api(base, "/")[1]
    assert b"<title>House numbers</title>" in page and b"api/roi" in page
    assert api(base, "/nothing")[0] == 404


def test_a_missing_or_wrong_token_gets_401(served):
    """Four wrong tries, one under the lockout (http.LOCKOUT: five a minute), so the module's app stays usable."""
    base, _, _ = served
    for path, method, body, token in [("/api/status", "GET", None, None), ("/snapshot.jpg", "GET", None, "wrong"),
                                      ("/", "GET", None, TOKEN[:-1]), ("/api/roi", "PUT", b"[1, 2, 30, 40]", None)]:
        status, answer = api(base, path, method, body, token=token)
        assert status == 401 and "token" in answer["error"]
    assert api(base, "/api/status")[0] == 200


@pytest.mark.parametrize("body, message", [
    (b"not json", "not JSON"),
    (b'{"x": 1}', "four numbers"),
    (b"[1, 2, 3]", "four numbers"),
    (b'["1", 2, 30, 40]', "four numbers"),
    (b"[true, 2, 30, 40]", "four numbers"),
    (b"[NaN, 2, 30, 40]", "four numbers"),
    (b"[300, 200, 100, 100]", "outside the 320x240 frame"),
    (b"[-5, 0, 100, 100]", "outside"),
    (b"[0, 0, 2, 2]", "too small"),
    (b"[1, 2, 30, 40]" + b" " * 5000, "too big"),
])
def test_a_malformed_region_gets_400_and_changes_nothing(served, body, message):
    base, config, _ = served
    before = config.read_text()
    status, answer = api(base, "/api/roi", "PUT", body)
    assert status == 400 and message in answer["error"]
    assert api(base, "/api/status")[1]["roi"] == list(LEFT) and config.read_text() == before


def test_a_port_already_taken_is_one_line_and_exit_2(svhn, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = app("--model", SHIPPED, "--source", svhn / "recon" / "test" / "1.png", "--http", port)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert f"--http 127.0.0.1:{port}: cannot listen there (Address already in use; is another program" in proc.stderr


def test_a_network_address_needs_a_token(svhn):
    proc = app("--model", SHIPPED, "--source", svhn / "recon" / "test" / "1.png", "--http", "0.0.0.0:8080")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--http-token" in proc.stderr


def test_config_roi_roundtrip_without_browser(svhn, tmp_path):
    proc, base, config, (left, right) = start_app(svhn, tmp_path)
    try:
        wait_status(base, lambda s: s["frame_size"] is not None)
        status, answer = request(base + "/api/roi", "PUT", json.dumps(list(RIGHT)).encode(), JSON)
        assert status == 200 and answer == {"roi": list(RIGHT), "saved": True, "config": str(config)}
        assert tomllib.loads(config.read_text())["roi"] == "176,56,128,128"
        assert config.read_text().startswith("# the gate camera\n")  # the rest of the file as it was
        s = wait_status(base, lambda s: s["latest"]["reading"] == right)
        assert s["roi"] == list(RIGHT) and s["current"]["region"] == list(RIGHT)
    finally:
        stop(proc)


def test_history_counts_readings_per_hour_from_the_tail_of_the_jsonl(tmp_path):
    """Bounded: only the file's last MAX_BYTES are read, a cut line is skipped, the hours are the last 24."""
    from datetime import datetime, timedelta, timezone

    from edge_app.outputs.history import readings_per_hour

    now = datetime(2026, 12, 6, 12, 30, tzinfo=timezone.utc)
    path = tmp_path / "r.jsonl"
    with open(path, "w") as f:
        for i in reversed(range(30_000)):  # two days, one reading every 6 s, oldest first as the app appends
            when = now - timedelta(seconds=6 * i)
            f.write(json.dumps({"time": when.isoformat(), "reading": str(i % 3)}) + "\n")
        f.write('{"time": "2026-12-06T12:29:00+00:00", "rea')  # a line cut by a power cut
    hours = readings_per_hour(path, 24, now, max_bytes=200_000)
    assert len(hours) == 24 and hours[-1]["hour"] == "2026-12-06T12:00+00:00"
    assert hours[-1]["readings"] == 301 and set(hours[-1]["numbers"]) == {"0", "1", "2"}  # 12:00:00-12:30:00, 6 s apart
    assert sum(h["readings"] for h in hours) < 200_000 // 40  # only the tail was read
    assert readings_per_hour(tmp_path / "none.jsonl", 3, now) == [
        {"hour": f"2026-12-06T{h}:00+00:00", "readings": 0, "numbers": {}} for h in (10, 11, 12)]


def test_history_and_log_endpoints(served):
    base, _, _ = served
    status, answer = api(base, "/api/history")
    assert status == 404 and "--jsonl" in answer["error"]  # this app keeps no JSONL
    assert api(base, "/api/history?hours=0")[0] == 400 and api(base, "/api/history?hours=999")[0] == 400
    status, lines = api(base, "/api/log?limit=5")
    assert status == 200 and isinstance(lines, list) and len(lines) <= 5
    assert api(base, "/api/log?limit=0")[0] == 400


def test_settings_from_the_page_are_checked_applied_and_saved(svhn, tmp_path):
    """The gate and the rate apply at once; the camera's settings are saved for the next start. Each value goes
    through its flag's own parser; a bad one changes nothing, and the 0600 config keeps its mode and comments."""
    proc, base, config, _ = start_app(svhn, tmp_path, "--http-token", TOKEN)
    config.chmod(0o600)
    try:
        wait_status(base, lambda s: s["frame_size"] is not None)
        before = config.read_text()
        for body, message in ((b'{"zoom": 99}', "key 'zoom'"), (b'{"threshold": 2}', "key 'threshold'"),
                              (b'{"model": "x.tflite"}', "not settable here: model"), (b"[1]", "JSON object"),
                              (b'{"hflip": "yes"}', "key 'hflip'")):
            status, answer = api(base, "/api/settings", "PUT", body)
            assert status == 400 and message in answer["error"], (body, answer)
        assert config.read_text() == before
        status, answer = api(base, "/api/settings", "PUT", b'{"threshold": 0.5, "fps": 10, "zoom": 2, "hflip": true}')
        assert status == 200 and answer["saved"] and sorted(answer["restart"]) == ["hflip", "zoom"], answer
        assert api(base, "/api/status")[1]["threshold"] == 0.5 and api(base, "/api/settings")[1]["zoom"] == 2.0
        saved = tomllib.loads(config.read_text())
        assert (saved["threshold"], saved["fps"], saved["zoom"], saved["hflip"]) == (0.5, 10, 2, True)
        assert config.read_text().startswith("# the gate camera\n") and config.stat().st_mode & 0o777 == 0o600
    finally:
        stop(proc)


def test_a_hard_frame_saved_from_the_page_is_a_training_folder(svhn, tmp_path):
    """The latest frame, its region split into one box per digit, the number the user saw: train's own crop cache
    takes the folder as it is; an empty number is a negative; a bad one changes nothing."""
    from edge_app.annotations import read_annotations
    from train.cache import load_crops

    folder = tmp_path / "saved"
    proc, base, _, (left, _) = start_app(svhn, tmp_path, "--http-token", TOKEN, "--save-dir", folder)
    try:
        wait_status(base, lambda s: s["frame_size"] is not None)
        status, answer = api(base, "/api/saved-frames", "PUT", json.dumps({"number": left}).encode())
        assert status == 200 and answer["saved"] == "1.png" and answer["number"] == left
        assert api(base, "/api/saved-frames", "PUT", b'{"number": ""}')[1]["saved"] == "2.png"  # no number
        for body in (b'{"number": "12a"}', b'{"number": "123456"}', b'["12"]'):
            assert api(base, "/api/saved-frames", "PUT", body)[0] == 400
    finally:
        stop(proc)
    saved = read_annotations(folder)
    assert [a.name for a in saved] == ["1.png", "2.png"] and saved[0].digits == tuple(int(d) for d in left)
    x, y, w, h = LEFT
    assert saved[0].boxes[0].left == x and sum(b.width for b in saved[0].boxes) == pytest.approx(w, abs=0.2)
    assert saved[1].digits == ()
    crops = load_crops(folder, tmp_path / "cache", quiet=True)
    assert len(crops) == 2 and crops.regions.shape == (2, 64, 64, 3) and crops.targets[1][0] == 0  # 0 digits


def test_saving_frames_is_off_without_a_folder(served):
    base, _, _ = served
    status, answer = api(base, "/api/saved-frames", "PUT", b'{"number": "12"}')
    assert status == 409 and "--save-dir" in answer["error"]
