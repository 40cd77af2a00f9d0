"""Where the machine's CPU went during a run, and what the API's database sessions waited on.

A thread samples every `interval_s`:

- each PostgreSQL session's CPU (from /proc), grouped by its `application_name` (the services name
  theirs, common/db.py), autovacuum workers and the other background processes by their
  `backend_type`; the postmaster's exited children (sessions and autovacuum workers that ended
  between two samples) as one group;
- each service process of the run (gunicorn's master and workers together), Kafka, Redis, and this
  benchmark's own process (the load generator and its probes);
- the `wait_event` of every active `order_api` session: a payment that waits on a lock shows up as
  `Lock/transactionid` or `LWLock/...`, one that runs as `CPU`.

`share(samples, began, ended)` sums a span of samples: cores used per group and the waits counted.
"""
import os
import threading
import time
from collections import Counter

import psycopg2

from harness.cpu import cpu_seconds, tree_cpu_seconds
from harness.stack import pid_of

_SESSIONS = ("SELECT pid, application_name, backend_type, state, wait_event_type, wait_event "
             "FROM pg_stat_activity WHERE pid <> pg_backend_pid()")


def _group(application_name: str, backend_type: str) -> str:
    if backend_type == "client backend":
        return f"postgres: {application_name or 'unnamed'}"
    if backend_type.startswith("autovacuum"):
        return "postgres: autovacuum"
    return "postgres: background"


def _stack_pids(*names: str) -> dict[str, int]:
    """The stack's components that have a pid file (a three-node Kafka has kafka-1..3 instead: not counted)."""
    pids = {}
    for name in names:
        try:
            pids[name] = pid_of(name)
        except (FileNotFoundError, ValueError):
            continue
    return pids


class CpuShare(threading.Thread):
    def __init__(self, dsn: str, processes: dict[str, int], interval_s: float = 2.0):
        """`processes`: name -> pid of what to count besides PostgreSQL (each with its live children)."""
        super().__init__(daemon=True)
        self.dsn, self.interval_s = dsn, interval_s
        self.processes = {**_stack_pids("kafka", "redis"), **processes}
        self.postmaster = pid_of("postgres")
        self.samples: list[dict] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = psycopg2.connect(self.dsn, connect_timeout=5, application_name="bench: cpu share")
        conn.autocommit = True
        try:
            last = self._read(conn)
            while not self.stop.wait(self.interval_s):
                now = self._read(conn)
                self.samples.append({"at": now["at"], "cpu": _spent(last, now), "waits": now["waits"]})
                last = now
        finally:
            conn.close()

    def _read(self, conn) -> dict:
        with conn.cursor() as cursor:
            cursor.execute(_SESSIONS)
            sessions = cursor.fetchall()
        per_pid, waits = {}, Counter()
        for pid, application_name, backend_type, state, wait_type, wait_event in sessions:
            try:
                per_pid[pid] = (_group(application_name, backend_type or ""), cpu_seconds(pid))
            except (FileNotFoundError, ProcessLookupError):
                continue  # ended between the query and /proc: counted with the exited children
            if application_name == "order_api" and state == "active":
                waits[f"{wait_type}/{wait_event}" if wait_type else "CPU"] += 1
        per_process = {"bench": cpu_seconds(os.getpid())}  # without its children: the services are counted apart
        for name, pid in self.processes.items():
            try:
                per_process[name] = tree_cpu_seconds(pid)
            except FileNotFoundError:
                continue
        postmaster = cpu_seconds(self.postmaster)
        exited = cpu_seconds(self.postmaster, with_exited_children=True) - postmaster
        return {"at": time.time(), "per_pid": per_pid, "per_process": per_process,
                "postmaster": postmaster, "exited": exited, "waits": dict(waits)}


def _spent(last: dict, now: dict) -> dict[str, float]:
    spent = Counter()
    for pid, (group, seconds) in now["per_pid"].items():
        if pid in last["per_pid"]:
            spent[group] += seconds - last["per_pid"][pid][1]
        # a session new since the last sample: what it used before it is lost (at most one interval)
    for name, seconds in now["per_process"].items():
        if name in last["per_process"]:
            spent[name] += seconds - last["per_process"][name]
    spent["postgres: background"] += now["postmaster"] - last["postmaster"]
    spent["postgres: ended sessions"] += now["exited"] - last["exited"]
    return dict(spent)


def share(samples: list[dict], began: float, ended: float) -> dict:
    """Cores used per group (CPU seconds / wall seconds) and the API's waits, over the samples in [began, ended)."""
    mine = [s for s in samples if began <= s["at"] < ended]
    if not mine:
        return {"cores": {}, "api_waits": {}}
    wall = max(ended - began, 1e-9)
    cores, waits = Counter(), Counter()
    for sample in mine:
        cores.update(sample["cpu"])
        waits.update(sample["waits"])
    return {"cores": {group: round(seconds / wall, 3) for group, seconds in cores.most_common()},
            "api_waits": dict(waits.most_common())}
