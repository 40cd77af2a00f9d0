"""Debezium's Outbox Event Router on Kafka Connect (standalone), run beside the relay by bench.relay_cost.

What a team would pick instead of the relay: Debezium's PostgreSQL connector decodes the outbox
table's inserts from the WAL (`pgoutput`, a replication slot of its own) and its Outbox Event
Router turns each into a record keyed by `aggregateid` on the topic named by the row's `topic`.
Tuned for latency as the issue that asked for the comparison did: `poll.interval.ms=10`,
`max.batch.size=8192`, producer `linger.ms=5`, `batch.size=262144`.

Its jars (bench/cdc/pom.xml) are gathered once with mvn into $STACK_DIR/debezium/libs. PostgreSQL
must run with `wal_level=logical` (`STACK_PG_WAL_LEVEL=logical`, stack/native.sh); `require_logical`
says so and how, instead of failing inside the connector.
"""
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.request import urlopen

import psycopg2
from sqlalchemy.engine import make_url

from harness.services import ServiceProcess, free_port
from harness.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
POM = ROOT / "bench" / "cdc" / "pom.xml"
STACK_DIR = Path(os.environ.get("STACK_DIR", ROOT / ".stack"))
LIBS = STACK_DIR / "debezium" / "libs"


class CdcUnavailable(RuntimeError):
    """Debezium cannot run here: PostgreSQL is not logical, or its jars could not be gathered."""


def require_logical(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW wal_level")
            level = cursor.fetchone()[0]
            cursor.execute("SELECT rolreplication FROM pg_roles WHERE rolname = current_user")
            replication = cursor.fetchone()[0]
    finally:
        conn.close()
    if level != "logical" or not replication:
        raise CdcUnavailable(
            f"Debezium needs wal_level=logical and a REPLICATION role (found wal_level={level}, "
            f"replication={replication}); restart the stack's PostgreSQL with: "
            "bash stack/native.sh stop postgres; STACK_PG_WAL_LEVEL=logical bash stack/native.sh start postgres")


def gather_libs() -> Path:
    """Kafka Connect's and Debezium's jars, gathered again only when bench/cdc/pom.xml changed."""
    stamp = LIBS.parent / "libs.stamp"
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if LIBS.is_dir() and stamp.exists() and stamp.read_text() == digest:
        return LIBS
    tmp = LIBS.parent / "libs.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    done = subprocess.run(["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime",
                           f"-DoutputDirectory={tmp}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise CdcUnavailable(f"mvn could not gather Debezium's jars: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    shutil.rmtree(LIBS, ignore_errors=True)
    shutil.rmtree(POM.parent / "target", ignore_errors=True)
    tmp.rename(LIBS)
    stamp.write_text(digest)
    return LIBS


def _properties(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


class Debezium:
    """One Kafka Connect standalone worker with the outbox connector, on the bench's database."""

    def __init__(self, database_url: str, brokers: str, work_dir: Path, log_path: Path):
        self.url = make_url(database_url)
        self.brokers = brokers
        self.work_dir = work_dir
        self.log_path = log_path
        self.name = f"bench_outbox_{uuid.uuid4().hex[:8]}"  # also the slot's and the publication's name
        self.port = free_port()
        self.process: ServiceProcess | None = None

    def _worker(self) -> Path:
        return _properties(self.work_dir / "worker.properties", {
            "bootstrap.servers": self.brokers,
            "listeners": f"http://127.0.0.1:{self.port}",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "offset.storage.file.filename": str(self.work_dir / "offsets.dat"),
            "offset.flush.interval.ms": "1000",
            "producer.linger.ms": "5",
            "producer.batch.size": "262144",
        })

    def _connector(self) -> Path:
        return _properties(self.work_dir / "connector.properties", {
            "name": self.name,
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "plugin.name": "pgoutput",
            "database.hostname": self.url.host or "127.0.0.1",
            "database.port": str(self.url.port or 5432),
            "database.user": self.url.username,
            "database.password": self.url.password,
            "database.dbname": self.url.database,
            "topic.prefix": self.name,
            "table.include.list": "public.outbox",
            "slot.name": self.name,
            "slot.drop.on.stop": "true",
            "publication.name": self.name,
            "publication.autocreate.mode": "filtered",
            "snapshot.mode": "no_data",
            "poll.interval.ms": "10",
            "max.batch.size": "8192",
            "max.queue.size": "32768",  # must exceed max.batch.size
            "transforms": "outbox",
            "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
            "transforms.outbox.table.field.event.id": "event_id",
            "transforms.outbox.table.field.event.key": "aggregateid",
            "transforms.outbox.table.field.event.payload": "payload",
            "transforms.outbox.route.by.field": "topic",
            "transforms.outbox.route.topic.replacement": "${routedByValue}",
            "transforms.outbox.table.fields.additional.placement": "type:header:event_type",
        })

    def start(self, timeout: float = 120.0) -> "Debezium":
        libs = gather_libs()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        command = ["java", "-Xms256m", "-Xmx512m", f"-Dlog4j2.configurationFile={ROOT / 'stack' / 'kafka' / 'log4j2.yaml'}",
                   "-cp", f"{libs}/*", "org.apache.kafka.connect.cli.ConnectStandalone",
                   str(self._worker()), str(self._connector())]
        self.process = ServiceProcess("debezium", {}, f"http://127.0.0.1:{self.port}/", command=command,
                                      log_path=self.log_path).start(timeout)
        try:
            wait_for(self._streaming, timeout=timeout, interval=0.2, what="Debezium's connector streaming from its slot")
        except BaseException:
            self.stop()
            raise
        return self

    def _streaming(self) -> bool:
        try:
            with urlopen(f"http://127.0.0.1:{self.port}/connectors/{self.name}/status", timeout=2) as response:
                status = json.load(response)
        except OSError:
            return False
        tasks = status.get("tasks") or [{}]
        if status["connector"]["state"] == "FAILED" or tasks[0].get("state") == "FAILED":
            raise CdcUnavailable(f"Debezium's connector failed: {tasks[0].get('trace', status)[:2000]}; see {self.log_path}")
        if tasks[0].get("state") != "RUNNING":
            return False
        conn = psycopg2.connect(host=self.url.host, port=self.url.port, user=self.url.username,
                                password=self.url.password, dbname=self.url.database)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (self.name,))
                row = cursor.fetchone()
        finally:
            conn.close()
        return bool(row and row[0])

    @property
    def pid(self) -> int:
        return self.process.process.pid

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=30)
        self._drop_leftovers()

    def _drop_leftovers(self) -> None:
        """The slot (if the connector did not drop it) and the publication: a slot left behind
        would hold the WAL of every later run."""
        conn = psycopg2.connect(host=self.url.host, port=self.url.port, user=self.url.username,
                                password=self.url.password, dbname=self.url.database)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                               "WHERE slot_name = %s AND NOT active", (self.name,))
                cursor.execute(f'DROP PUBLICATION IF EXISTS "{self.name}"')
        finally:
            conn.close()
