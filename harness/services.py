"""The real service processes (console scripts from the project's venv), started by a test, a benchmark or a chaos run.

Each process runs in a session of its own with the caller's environment plus its own, logs to one file, and is
stopped or killed by its own pid only. `start` returns once `health_url` answers 200, and never leaves a process
behind when it fails.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOG_DIR = ROOT / ".stack" / "log" / "tests"


class ServiceFailed(RuntimeError):
    """A service exited or did not answer its health check before the deadline."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass
class ServiceProcess:
    """One service; by default the console script `name`, logging to LOG_DIR/<name>-<pid>.log."""

    name: str
    env: dict[str, str]
    health_url: str
    command: list[str] = field(default_factory=list)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.command = self.command or [str(BIN / self.name)]
        self.log_path = self.log_path or LOG_DIR / f"{self.name}-{os.getpid()}.log"

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, env={**os.environ, **self.env},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            self._wait_until_healthy(timeout)
        except BaseException:  # never leave a process behind that nothing will stop
            self.kill()
            raise
        return self

    def _wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not answers(self.health_url):
            if self.process.poll() is not None:
                raise ServiceFailed(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                raise ServiceFailed(f"{self.name} not healthy within {timeout}s; see {self.log_path}")
            time.sleep(0.1)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

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
