"""The real service processes (console scripts from the project's venv), started for a test."""
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

from harness.waiting import wait_for

BIN = Path(sys.executable).parent
LOG_DIR = Path(__file__).resolve().parents[2] / ".stack" / "log" / "tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServiceProcess:
    """One service started from its console script; `health_url` answers 200 once it is up."""

    name: str
    env: dict[str, str]
    health_url: str
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return LOG_DIR / f"{self.name}-{os.getpid()}.log"

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(BIN / self.name), *self.args],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(self._healthy, timeout=timeout, interval=0.1, what=f"{self.name} healthy")
        except BaseException:  # never leave a process behind that no test will stop
            self.kill()
            raise
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}; see {LOG_DIR}")
        return requests.get(self.health_url, timeout=1).status_code == 200

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> int:
        return self.stop(signal.SIGKILL)
