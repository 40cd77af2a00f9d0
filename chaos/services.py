"""The three services as processes of a chaos run: one API, any number of relays and workers.

Each process is started from its console script in the project's venv with the run's environment
(its own database, topics, group id and ports), logs to chaos/results/logs/<name>.log, and is
killed or stopped by its own pid only. `Pipeline.restart(name)` brings a dead process back, the way
a supervisor (systemd, Kubernetes) would.
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

BIN = Path(sys.executable).parent
RESULTS = Path(__file__).resolve().parent / "results"


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
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    health_url: str
    log_name: str = ""
    process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60.0) -> "Service":
        log_dir = RESULTS / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / f"{self.log_name or self.name}.log", "ab") as log:
            self.process = subprocess.Popen(
                self.command, env={**os.environ, **self.env},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while not answers(self.health_url):
            if self.process.poll() is not None:
                raise ServiceFailed(f"{self.name} exited with {self.process.returncode}; see {log_dir}")
            if time.monotonic() > deadline:
                raise ServiceFailed(f"{self.name} not healthy within {timeout_s}s; see {log_dir}")
            time.sleep(0.1)
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive:
            os.kill(self.process.pid, sig)
            if sig == signal.SIGKILL:
                self.process.wait()

    def stop(self, timeout_s: float = 20.0) -> int | None:
        if not self.alive:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@dataclass
class Pipeline:
    """The run's services; `env` holds DATABASE_URL, KAFKA_BROKERS, REDIS_URL, topics and group id."""

    env: dict[str, str]
    relays: int = 1
    workers: int = 1
    api_workers: int = 2
    log_prefix: str = "chaos"
    services: dict[str, Service] = field(default_factory=dict)

    def __post_init__(self) -> None:
        api_port = free_port()
        self.api_port = api_port
        self._add("order-api", "order-api", {"API_PORT": str(api_port), "API_WORKERS": str(self.api_workers)},
                  f"http://127.0.0.1:{api_port}/readyz")
        for i in range(1, self.relays + 1):
            port = free_port()
            self._add(f"relay-{i}", "outbox-relay", {"RELAY_METRICS_PORT": str(port), "RELAY_METRICS_HOST": "127.0.0.1"},
                      f"http://127.0.0.1:{port}/metrics")
        for i in range(1, self.workers + 1):
            port = free_port()
            self._add(f"worker-{i}", "platform-worker", {"WORKER_METRICS_PORT": str(port), "WORKER_METRICS_HOST": "127.0.0.1"},
                      f"http://127.0.0.1:{port}/metrics")

    def _add(self, name: str, script: str, extra: dict[str, str], health_url: str) -> None:
        self.services[name] = Service(name, [str(BIN / script)], {**self.env, **extra}, health_url, f"{self.log_prefix}-{name}")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def named(self, prefix: str) -> list[str]:
        return [name for name in self.services if name.startswith(prefix)]

    def start(self) -> "Pipeline":
        for service in self.services.values():
            service.start()
        return self

    def kill(self, name: str) -> None:
        self.services[name].signal(signal.SIGKILL)

    def restart(self, name: str) -> None:
        if not self.services[name].alive:
            self.services[name].start()

    def dead(self) -> list[str]:
        return [name for name, service in self.services.items() if not service.alive]

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
