"""The three services as processes of one run: one API, any number of relays and workers.

Each process is started from its console script in the project's venv with the run's environment
(its own database, topics, group id and ports), logs to <log_dir>/<log_prefix>-<name>.log, and is
killed or stopped by its own pid only. `Pipeline.restart(name)` brings a dead process back, the way
a supervisor (systemd, Kubernetes) would.
"""
from dataclasses import dataclass, field
from pathlib import Path

from harness.services import BIN, ROOT, ServiceProcess, free_port

RUN_LOGS = ROOT / "chaos" / "results" / "logs"  # git-ignored; chaos runs and benchmarks have always logged here


@dataclass
class Pipeline:
    """The run's services; `env` holds DATABASE_URL, KAFKA_BROKERS, REDIS_URL, topics and group id."""

    env: dict[str, str]
    relays: int = 1
    workers: int = 1
    api_workers: int = 2
    log_prefix: str = "chaos"
    log_dir: Path = RUN_LOGS
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        api_port = free_port()
        self.api_port = api_port
        self._add("order-api", "order-api", {"API_PORT": str(api_port), "API_WORKERS": str(self.api_workers)},
                  f"http://127.0.0.1:{api_port}/readyz")
        for i in range(1, self.relays + 1):
            port = free_port()
            self._add(f"relay-{i}", "outbox-relay",
                      {"RELAY_METRICS_PORT": str(port), "RELAY_METRICS_HOST": "127.0.0.1"},
                      f"http://127.0.0.1:{port}/metrics")
        for i in range(1, self.workers + 1):
            port = free_port()
            self._add(f"worker-{i}", "platform-worker",
                      {"WORKER_METRICS_PORT": str(port), "WORKER_METRICS_HOST": "127.0.0.1"},
                      f"http://127.0.0.1:{port}/metrics")

    def _add(self, name: str, script: str, extra: dict[str, str], health_url: str) -> None:
        self.services[name] = ServiceProcess(name, {**self.env, **extra}, health_url, [str(BIN / script)],
                                             self.log_dir / f"{self.log_prefix}-{name}.log")

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
        self.services[name].kill()

    def restart(self, name: str) -> None:
        if not self.services[name].alive:
            self.services[name].start()

    def dead(self) -> list[str]:
        return [name for name, service in self.services.items() if not service.alive]

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop(timeout=20.0)
