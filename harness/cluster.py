"""A three-node KRaft cluster for the cluster tests (and bench.cluster), driven through stack/native.sh.

When the suite already runs against a cluster (STACK_KAFKA_NODES=3 make test), that cluster is used.
Otherwise the tests start one of their own, once per run, in a stack directory of its own
(`TEST_CLUSTER_STACK_DIR`, default `<STACK_DIR>/cluster-tests`) on ports of its own
(`TEST_CLUSTER_KAFKA_PORT`, default STACK_KAFKA_PORT + 100: nodes on p, p+2, p+4, their controllers
on p+1, p+3, p+5), and stop it at the end. PostgreSQL and Redis stay the suite's.
"""
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.stack import NATIVE

ROOT = Path(__file__).resolve().parents[1]
NODES = 3


@dataclass(frozen=True)
class Cluster:
    env: dict[str, str]  # what native.sh needs to find this cluster
    own: bool  # started by the tests (and stopped by them)

    @classmethod
    def for_tests(cls) -> "Cluster":
        if os.environ.get("STACK_KAFKA_NODES") == str(NODES):
            return cls({"STACK_KAFKA_NODES": str(NODES)}, own=False)
        main_dir = Path(os.environ.get("STACK_DIR", ROOT / ".stack"))
        port = int(os.environ.get("TEST_CLUSTER_KAFKA_PORT", int(os.environ.get("STACK_KAFKA_PORT", 9092)) + 100))
        env = {
            "STACK_DIR": os.environ.get("TEST_CLUSTER_STACK_DIR", str(main_dir / "cluster-tests")),
            "STACK_KAFKA_NODES": str(NODES),
            "STACK_KAFKA_PORT": str(port),
            "STACK_KAFKA_CONTROLLER_PORT": str(port + 1),
        }
        return cls(env, own=True)

    @property
    def port(self) -> int:
        return int(self.env.get("STACK_KAFKA_PORT", os.environ.get("STACK_KAFKA_PORT", 9092)))

    @property
    def brokers(self) -> str:
        if not self.own and os.environ.get("KAFKA_BROKERS"):
            return os.environ["KAFKA_BROKERS"]
        return ",".join(f"127.0.0.1:{self.port + 2 * i}" for i in range(NODES))

    def stack(self, command: str, name: str = "", timeout_s: float = 240.0) -> str:
        env = {**os.environ, **self.env}
        if self.own:
            env.pop("KAFKA_BROKERS", None)  # native.sh derives it from this cluster's ports
        done = subprocess.run([str(NATIVE), command, *([name] if name else [])], env=env, capture_output=True,
                              text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise RuntimeError(f"native.sh {command} {name}: {done.stdout[-800:]}{done.stderr[-800:]}")
        return done.stdout

    def start(self) -> "Cluster":
        if self.own:
            self._share_kafka_jars()
        self.stack("start", "kafka")
        return self

    def stop(self) -> None:
        if self.own:
            self.stack("stop", "kafka")

    def _share_kafka_jars(self) -> None:
        """Hard-link the main stack's Kafka jars instead of gathering them with mvn a second time."""
        main = Path(os.environ.get("STACK_DIR", ROOT / ".stack")) / "kafka"
        own = Path(self.env["STACK_DIR"]) / "kafka"
        if (own / "libs").is_dir() or not (main / "libs.stamp").is_file():
            if not (own / "libs").is_dir():
                self.stack("install")
            return
        own.mkdir(parents=True, exist_ok=True)
        shutil.copytree(main / "libs", own / "libs", copy_function=os.link)
        shutil.copy(main / "libs.stamp", own / "libs.stamp")
