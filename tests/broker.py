"""A real Mosquitto broker on 127.0.0.1 at a free port (temp config, persistence on), and a real paho subscriber."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest


def make_certificates(folder: Path) -> dict[str, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 it signed (openssl)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed: scripts/test.sh installs it (apt-get install -y openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key, cert, key = (folder / n for n in ("ca.pem", "ca.key", "server.pem", "server.key"))

    def run(*args):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj",
        "/CN=test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", folder / "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", folder / "server.csr", "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", folder / "san.ext")
    return {"ca": ca, "cert": cert, "key": key}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto with a config in `folder`; start/kill/stop keep the port, so clients reconnect to the same place."""

    def __init__(self, folder: Path, *, users: dict[str, str] | None = None, tls: dict[str, Path] | None = None):
        if shutil.which("mosquitto") is None:
            pytest.fail("mosquitto is not installed: scripts/test.sh installs it (apt-get install -y mosquitto)")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        lines = [f"listener {self.port} 127.0.0.1", "persistence true", f"persistence_location {folder}/",
                 "autosave_interval 1", "autosave_on_changes true", f"log_dest file {folder}/mosquitto.log"]
        if os.geteuid() == 0:
            lines.append("user root")  # else mosquitto drops to a 'mosquitto' user that cannot write the temp folder
        if users:
            pw = folder / "passwords"
            pw.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
            subprocess.run(["mosquitto_passwd", "-U", str(pw)], check=True, capture_output=True)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        self.tls_port = None
        if tls:  # a second listener with TLS; the plain one stays for the test's own subscriber
            self.tls_port = free_port()
            lines += [f"listener {self.tls_port} 127.0.0.1", f"cafile {tls['ca']}", f"certfile {tls['cert']}",
                      f"keyfile {tls['key']}"]
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"mosquitto did not start: {self.proc.stderr.read()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"mosquitto did not listen on port {self.port} within 10 s")

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Subscriber:
    """A paho client with a persistent session (QoS 1): the broker keeps what it misses while offline."""

    def __init__(self, broker: Broker, topics=("house_numbers/#", "homeassistant/#"), client_id="test-sub"):
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.reconnect_delay_set(0.2, 1)
        self.connected = threading.Event()

        def on_connect(client, userdata, flags, reason, properties):
            for t in topics:
                client.subscribe(t, qos=1)
            self.connected.set()

        def on_message(client, userdata, msg):
            with self.lock:
                self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = on_message
        self.client.connect_async("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.connected.wait(10), "the test subscriber could not connect to mosquitto"
        time.sleep(0.2)  # the SUBACK

    def on(self, suffix: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t.endswith(suffix)]

    def readings(self) -> list[dict]:
        return [json.loads(p) for p in self.on("/reading")]

    def wait_for(self, check, timeout=20.0) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if check(self):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained(broker: Broker, topics=("house_numbers/#", "homeassistant/#"), settle=1.0) -> dict[str, bytes]:
    """What a newcomer gets at once: the retained message of each topic."""
    sub = Subscriber(broker, topics, client_id=f"newcomer-{time.monotonic_ns()}")
    time.sleep(settle)
    sub.close()
    with sub.lock:
        return {t: p for t, p, r in sub.messages if r}
