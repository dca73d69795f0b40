"""A real `redis-server` for the tests: started on an ephemeral loopback
port, in a directory of its own, and stopped by its PID.

`RedisServer(appendonly=True)` runs with `appendfsync always`, so that a
stop and a start on the same directory keep every write Redis
acknowledged: what the fault test needs to check that stsd loses nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from support import free_port

READY_TIMEOUT = 10.0


def redis_server_bin() -> str:
    """The server binary; a skip outside CI when it is missing (`make test`
    installs it), a failure in CI."""
    path = shutil.which("redis-server")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("redis-server is not installed (make deps installs it)", pytrace=False)
    pytest.skip("redis-server is not installed: run `make deps`")


class RedisServer:
    def __init__(self, appendonly: bool = False):
        self.tmp = tempfile.TemporaryDirectory(prefix="stsd-redis-")
        self.dir = Path(self.tmp.name)
        self.appendonly = appendonly
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> "RedisServer":
        args = [
            redis_server_bin(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.dir),
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
        ]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        log = open(self.dir / "redis.log", "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.ping():
                return self
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"redis-server did not start\n{(self.dir / 'redis.log').read_text()[-2000:]}", pytrace=False)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM by PID (Redis writes nothing more: no RDB snapshots);
        SIGKILL if it does not go."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        self.tmp.cleanup()
