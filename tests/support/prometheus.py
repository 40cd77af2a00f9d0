"""A real Prometheus (Debian's package) scraping services of a test, with the project's own rules."""
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import requests
import yaml

from harness.services import LOG_DIR, free_port
from harness.waiting import wait_for

OPS = Path(__file__).resolve().parents[2] / "ops" / "prometheus"


class Prometheus:
    """Started with ops/prometheus/prometheus.yml and rules.yml, scraping `targets` ({job: "host:port"}) every second."""

    def __init__(self, targets: dict[str, str]):
        self.targets = targets
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.directory = Path(tempfile.mkdtemp(prefix="prometheus-"))
        self.process: subprocess.Popen | None = None

    def start(self) -> "Prometheus":
        config = self._configure()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / f"prometheus-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._ready, timeout=30, interval=0.2, what="prometheus ready")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def query(self, expr: str) -> list:
        """The instant vector `expr` gives now; raises on a PromQL error."""
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5).json()
        if answer.get("status") != "success":
            raise AssertionError(f"{expr}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]["result"]

    def _configure(self) -> Path:
        config = yaml.safe_load((OPS / "prometheus.yml").read_text())
        config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
        shutil.copy(OPS / "rules.yml", self.directory / "rules.yml")
        (self.directory / "targets").mkdir()
        for job, target in self.targets.items():
            (self.directory / "targets" / f"{job}.json").write_text(json.dumps([{"targets": [target]}]))
        path = self.directory / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        return path

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited with {self.process.returncode}; see {LOG_DIR}")
        return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200
