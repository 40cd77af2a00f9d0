"""A soak: payments at a steady open-loop rate through the three services for 30 minutes, retention on a
compressed clock, reported per window.

On a database of its own (migrated to head, topics and group of its own), order-api, outbox-relay and
platform-worker run as in bench/e2e_latency.py, the relay with RELAY_RETENTION_HOURS of a few
minutes and RELAY_RETENTION_INTERVAL_SECONDS of a few seconds, so that the outbox reaches the size of
its retention window within the first window and should then stay there. Per window:

- offered and achieved payments/s; end-to-end p50/p99 from the payment's commit
  (`pg_xact_commit_timestamp`) to the Redis write (keyspace notifications), and payments not in Redis;
- the outbox's size (in all, heap, indexes; summed over partitions if it is partitioned), rows held
  and pending, live and dead tuples, autovacuum and autoanalyze runs during the window;
- the relay's claim per batch: the relay exports no claim-time metric and the stack does not load
  pg_stat_statements, so a probe runs the relay's own prepared claim every `--probe-seconds` in a
  transaction it rolls back (bench/history.py's explain_claim: wall ms and EXPLAIN ANALYZE ms);
- with `--long-transaction-minutes`, a session that takes a snapshot (REPEATABLE READ, one read of
  the outbox) at the start of window `--long-transaction-window` and idles in transaction that long:
  vacuum can remove no row version younger than it meanwhile; the windows after it show the recovery.

`--autovacuum scale_factor=0,threshold=10000,cost_delay=0` sets the outbox's own autovacuum
parameters (ALTER TABLE outbox SET (autovacuum_vacuum_...), on every leaf), to compare with the
defaults. Targets, reported, never asserted: the table's size flat once retention runs (last window
/ first window after the retention period), last window's p99 within 1.2 of the first's.

    python -m bench.soak [--minutes 30] [--window-minutes 5] [--rate 300] [--retention-minutes 5]
        [--retention-interval-seconds 15] [--long-transaction-minutes 5] [--long-transaction-window 3]
        [--autovacuum scale_factor=0,threshold=10000,cost_delay=0] [--quick]

`--quick`: 6 minutes in windows of 1, retention 1 minute, the long transaction 1 minute in window 3.
"""
import json
import os
import statistics
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import click
import psycopg2
from sqlalchemy import create_engine, text

from bench import cpu_share, history, machine, outbox_stats
from bench.dataset import payable_orders
from bench.e2e_latency import KeyspaceStamps, commit_times, from_commit, latencies, wait_for_keys
from bench.payment_load import measure
from harness.pipeline import Pipeline
from harness.provision import Infrastructure, Provisioned, drop, provision
from harness.stats import percentiles
from outbox_relay.config import Settings
from outbox_relay.wakeup import libpq_dsn

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Plan:
    minutes: float = 30.0
    window_minutes: float = 5.0
    rate: float = 300.0
    retention_minutes: float = 5.0
    retention_interval_s: float = 15.0
    long_transaction_minutes: float = 5.0
    long_transaction_window: int = 3  # 1-based; 0: none
    autovacuum: dict = field(default_factory=dict)
    probe_s: float = 15.0
    # payable orders spread over this many users and product options (bench/dataset.py): every
    # payment updates one balance and one stock row, rows whose versions a long transaction keeps too
    users: int = 50
    options: int = 8

    @property
    def windows(self) -> int:
        return max(1, round(self.minutes / self.window_minutes))

    @property
    def window_s(self) -> float:
        return self.window_minutes * 60

    def relay_env(self) -> dict[str, str]:
        return {"RELAY_RETENTION_HOURS": repr(self.retention_minutes / 60),
                "RELAY_RETENTION_INTERVAL_SECONDS": repr(self.retention_interval_s)}


QUICK = Plan(minutes=6.0, window_minutes=1.0, retention_minutes=1.0, long_transaction_minutes=1.0)


class LongTransaction:
    """A session that takes a snapshot and then idles in transaction until `end` (or its timer)."""

    def __init__(self, database_url: str, seconds: float):
        self.dsn, self.seconds = libpq_dsn(database_url), seconds
        self.conn, self.began, self.ended = None, None, None
        self._lock = threading.Lock()

    def begin(self) -> "LongTransaction":
        self.conn = psycopg2.connect(self.dsn, application_name="bench-soak-long-transaction")
        self.conn.set_session(isolation_level="REPEATABLE READ")
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM outbox")  # takes the snapshot
        self.began = time.time()
        self._timer = threading.Timer(self.seconds, self.end)
        self._timer.daemon = True
        self._timer.start()
        return self

    def end(self) -> None:
        with self._lock:
            if self.conn is not None and self.ended is None:
                self.conn.close()
                self.ended = time.time()


class ClaimProbe(threading.Thread):
    """Every `interval_s`: the relay's prepared claim in a rolled-back transaction, and the dead tuples."""

    def __init__(self, database_url: str, batch: int, interval_s: float):
        super().__init__(daemon=True)
        self.database_url, self.batch, self.interval_s = database_url, batch, interval_s
        self.samples: list[dict] = []
        self.stop = threading.Event()

    def run(self) -> None:
        engine = create_engine(self.database_url, pool_size=1)
        try:
            while not self.stop.wait(self.interval_s):
                claim = history.explain_claim(self.database_url, self.batch, 0, times=1)
                with engine.connect() as conn:
                    dead = outbox_stats.activity(conn)["dead_tuples"]
                self.samples.append({"at": time.time(), "claim_ms": claim["claim_ms"],
                                     "explain_ms": claim["explain_execution_ms"], "dead_tuples": dead,
                                     "buffers": next((l.strip() for l in claim["plan"] if "Buffers" in l), None),
                                     "plan": claim["plan"]})
        finally:
            engine.dispose()


def _reading(engine) -> dict:
    with engine.connect() as conn:
        return {**outbox_stats.size(conn), **outbox_stats.activity(conn), **outbox_stats.rows(conn)}


def _window(n: int, load: dict, began: float, ended: float, before: dict, after: dict, probes: list[dict],
            holder: LongTransaction | None, cpu: dict) -> dict:
    mine = [p for p in probes if began <= p["at"] < ended]
    claims = [p["claim_ms"] for p in mine]
    return {
        "window": n, "seconds": round(ended - began, 1), "offered_per_s": load["offered_per_s"],
        "achieved_per_s": load["throughput_per_s"], "payments": load["requests"], "errors": load["errors"],
        "payment_p99_ms": load["p99_ms"], **{k: after[k] for k in ("total_bytes", "heap_bytes", "index_bytes",
                                                                   "rows", "pending_rows", "live_tuples", "dead_tuples")},
        "autovacuums": after["autovacuum_count"] - before["autovacuum_count"],
        "autoanalyzes": after["autoanalyze_count"] - before["autoanalyze_count"],
        "claim_ms_median": round(statistics.median(claims), 2) if claims else None,
        "claim_ms_max": max(claims, default=None), "probes": mine,
        "long_transaction_open_s": _overlap(holder, began, ended),
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpu": cpu,
    }


def _overlap(holder: LongTransaction | None, began: float, ended: float) -> float:
    if holder is None or holder.began is None:
        return 0.0
    return round(max(0.0, min(ended, holder.ended or ended) - max(began, holder.began)), 1)


def _latency(window: dict, outcomes, seen: dict, database_url: str) -> None:
    _, _, missing = latencies(outcomes, seen)
    exact = percentiles(from_commit(outcomes, seen, commit_times(database_url, outcomes)))
    window.update({"e2e_p50_ms": exact["p50"], "e2e_p99_ms": exact["p99"], "e2e_max_ms": exact["max"],
                   "not_in_redis": missing})


def soak(plan: Plan, infra: Infrastructure, run_: Provisioned) -> dict:
    """The soak on a provisioned run (its database is left as it is at the end, for the caller to check)."""
    engine = create_engine(run_.database_url)
    per_window = int(plan.rate * plan.window_s)
    orders = payable_orders(run_.database_url, per_window * plan.windows + 10, users_count=plan.users, options_count=plan.options)
    if plan.minutes > 40:  # payable orders live an hour
        with engine.begin() as conn:
            conn.execute(text("UPDATE orders SET expires_at = now() + make_interval(mins => :m) WHERE status = 'PENDING'"),
                         {"m": plan.minutes + 30})
    outbox_stats.set_autovacuum(engine, plan.autovacuum)
    pipeline = Pipeline({**run_.service_env(infra, infra.brokers), **plan.relay_env()}, log_prefix=f"bench-soak-{run_.run_id}")
    probe = ClaimProbe(run_.database_url, Settings().batch_size, plan.probe_s)
    holder, windows, outcomes_of, cpu = None, [], [], None
    try:
        pipeline.start()
        probe.start()
        cpu = cpu_share.CpuShare(libpq_dsn(run_.database_url),
                                 {name: service.process.pid for name, service in pipeline.services.items()})
        cpu.start()
        with KeyspaceStamps(infra.redis_url) as stamps:
            before = _reading(engine)
            for n in range(1, plan.windows + 1):
                if n == plan.long_transaction_window and plan.long_transaction_minutes > 0:
                    holder = LongTransaction(run_.database_url, plan.long_transaction_minutes * 60).begin()
                began = time.time()
                batch = orders[(n - 1) * per_window:n * per_window]
                load, outcomes = measure(pipeline.api_port, batch, plan.rate, plan.window_s)
                after = _reading(engine)
                ended = time.time()
                windows.append(_window(n, load, began, ended, before, after, probe.samples, holder,
                                       cpu_share.share(cpu.samples, began, ended)))
                outcomes_of.append(outcomes)
                before = after
                click.echo(_progress(windows[-1]), err=True)
            for outcomes in outcomes_of:
                wait_for_keys(infra.redis_url, outcomes, 120)
            seen = stamps.collect()
        for window, outcomes in zip(windows, outcomes_of):
            _latency(window, outcomes, seen, run_.database_url)
        pipeline.stop()  # retention stops too, so the end's figures are the database's last ones
        end, options = _reading(engine), outbox_stats.reloptions(engine)
    finally:
        probe.stop.set()
        if cpu is not None:
            cpu.stop.set()
        if holder is not None:
            holder.end()
        pipeline.stop()
        probe.join(timeout=60)
        if cpu is not None:
            cpu.join(timeout=60)
        engine.dispose()
    long_transaction = None
    if holder is not None:
        long_transaction = {"window": plan.long_transaction_window, "began": holder.began, "ended": holder.ended,
                            "minutes": plan.long_transaction_minutes}
    paid = sum(1 for outcomes in outcomes_of for o in outcomes if o.status == 200)
    return summarise(plan, windows, end, paid, long_transaction, options)


def _progress(w: dict) -> str:
    return (f"   window {w['window']}: {w['achieved_per_s']}/s, outbox {w['total_bytes'] / 1e6:.0f} MB, "
            f"{w['rows']:,} rows ({w['pending_rows']:,} pending), dead {w['dead_tuples']:,}, "
            f"autovacuums {w['autovacuums']}, claim {w['claim_ms_median']} ms, load {w['load_average'][0]}")


def summarise(plan: Plan, windows: list[dict], end: dict, paid: int, long_transaction: dict | None, options: dict) -> dict:
    first, last = windows[0], windows[-1]
    # the first window that starts once rows are old enough for retention to delete
    settled = next((w for w in windows if (w["window"] - 1) * plan.window_minutes >= plan.retention_minutes), None)
    targets = {
        "size_last_to_first_after_retention": round(last["total_bytes"] / settled["total_bytes"], 3)
        if settled and settled is not last else None,
        "size_reference_window": settled["window"] if settled else None,
        "p99_last_to_first": round(last["e2e_p99_ms"] / first["e2e_p99_ms"], 3)
        if first.get("e2e_p99_ms") and last.get("e2e_p99_ms") else None,
    }
    millions_held = end["rows"] / 1e6
    return {
        "plan": asdict(plan), "windows": windows, "targets": targets, "long_transaction": long_transaction,
        "reloptions": options, "paid": paid, "rows_at_end": end["rows"], "deleted_by_retention": paid - end["rows"],
        "not_in_redis": sum(w.get("not_in_redis", 0) for w in windows),
        "mb_per_million_rows_held": round(end["total_bytes"] / 1e6 / millions_held) if millions_held >= 0.01 else None,
        "cpus": os.cpu_count(),
    }


def run(plan: Plan, infra: Infrastructure | None = None) -> dict:
    infra = infra or Infrastructure.from_environment()
    run_ = provision(infra, "bench_soak")
    try:
        return soak(plan, infra, run_)
    finally:
        drop(infra, run_)


def _mb(value: int) -> str:
    return f"{value / 1e6:.0f}"


def markdown(result: dict) -> list[str]:
    plan, targets = result["plan"], result["targets"]
    lines = [f"{plan['rate']:g} payments/s open loop for {plan['minutes']:g} minutes in windows of "
             f"{plan['window_minutes']:g}; retention {plan['retention_minutes']:g} minutes, run every "
             f"{plan['retention_interval_s']:g} s; autovacuum of the outbox: "
             f"{', '.join(f'{k}={v:g}' for k, v in plan['autovacuum'].items()) or 'PostgreSQL defaults'}. "
             f"End-to-end = commit → Redis write. Claim = the relay's prepared claim, probed every {plan['probe_s']:g} s "
             "(median and max of the window). Payment p99 = the API's answer, from the payment's scheduled time "
             f"(queueing in the client counts); {plan.get('users', 50)} users and {plan.get('options', 8)} product options "
             "share the payments. Sizes and tuples at the window's end.", "",
             "| window | offered/s | achieved/s | e2e p50 / p99 ms | payment p99 ms | outbox MB (heap / indexes) | rows (pending) | "
             "live / dead tuples | autovacuum / autoanalyze | claim ms median / max | long tx open s | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for w in result["windows"]:
        lines.append(
            f"| {w['window']} | {w['offered_per_s']:g} | {w['achieved_per_s']} | {w.get('e2e_p50_ms')} / {w.get('e2e_p99_ms')} | "
            f"{w.get('payment_p99_ms')} | "
            f"{_mb(w['total_bytes'])} ({_mb(w['heap_bytes'])} / {_mb(w['index_bytes'])}) | {w['rows']:,} ({w['pending_rows']:,}) | "
            f"{w['live_tuples']:,} / {w['dead_tuples']:,} | {w['autovacuums']} / {w['autoanalyzes']} | "
            f"{w['claim_ms_median']} / {w['claim_ms_max']} | {w['long_transaction_open_s']:g} | {w['load_average'][0]} |")
    lines += ["", f"Size last window / window {targets['size_reference_window']} (the first after the retention period): "
              f"{targets['size_last_to_first_after_retention']} (target: about 1). p99 last / first window: "
              f"{targets['p99_last_to_first']} (target: ≤ 1.2). Paid {result['paid']:,}, not in Redis "
              f"{result['not_in_redis']}, deleted by retention {result['deleted_by_retention']:,}, rows at the end "
              f"{result['rows_at_end']:,} ({result['mb_per_million_rows_held']} MB per million rows held).", ""]
    probes = [p for w in result["windows"] for p in w["probes"]]
    if result["long_transaction"] and probes:
        began = result["long_transaction"]["began"]
        lines += [f"Claim probes around the long transaction (window {result['long_transaction']['window']}, "
                  f"{result['long_transaction']['minutes']:g} minutes); minutes from its start:", "",
                  "| minute | claim ms | EXPLAIN ms | dead tuples | buffers |", "|---|---|---|---|---|"]
        lines += [f"| {(p['at'] - began) / 60:+.1f} | {p['claim_ms']} | {p['explain_ms']} | {p['dead_tuples']:,} | {p['buffers']} |"
                  for p in probes]
    lines += _cpu_table(result["windows"])
    slowest = max(probes, key=lambda p: p["claim_ms"], default=None)
    if slowest and slowest.get("plan"):
        lines += ["", f"The slowest probe's plan ({slowest['claim_ms']} ms):", "", "```", *slowest["plan"], "```"]
    return lines


def _cpu_table(windows: list[dict], top: int = 8) -> list[str]:
    """Cores used per window by the groups that used most over the soak, and what the API's sessions waited on."""
    totals = Counter()
    for w in windows:
        totals.update((w.get("cpu") or {}).get("cores", {}))
    if not totals:
        return []
    groups = [group for group, _ in totals.most_common(top)]
    lines = ["", f"Where the CPU went (cores used, of {os.cpu_count()}; bench/cpu_share.py), and the API's active "
             "database sessions by wait event (samples every 2 s):", "",
             f"| window | {' | '.join(groups)} | all | API sessions waiting on |", "|---|" + "---|" * (len(groups) + 2)]
    for w in windows:
        cores = (w.get("cpu") or {}).get("cores", {})
        waits = ", ".join(f"{event} {count}" for event, count in (w.get("cpu") or {}).get("api_waits", {}).items())
        lines.append(f"| {w['window']} | {' | '.join(f'{cores.get(g, 0):.2f}' for g in groups)} | "
                     f"{sum(cores.values()):.2f} | {waits or '-'} |")
    return lines


@click.command()
@click.option("--minutes", type=float, default=None, help="Length of the soak (default 30; 6 with --quick).")
@click.option("--window-minutes", type=float, default=None, help="Reporting window (default 5; 1 with --quick).")
@click.option("--rate", default=300.0, show_default=True, help="Payments/s offered (open loop).")
@click.option("--retention-minutes", type=float, default=None, help="RELAY_RETENTION_HOURS in minutes (default 5; 1 with --quick).")
@click.option("--retention-interval-seconds", default=15.0, show_default=True, help="RELAY_RETENTION_INTERVAL_SECONDS.")
@click.option("--long-transaction-minutes", type=float, default=None, help="0: none (default 5; 1 with --quick).")
@click.option("--long-transaction-window", default=3, show_default=True, help="Window (1-based) whose start opens it.")
@click.option("--autovacuum", default="", help="The outbox's autovacuum parameters, e.g. scale_factor=0,threshold=10000,cost_delay=0.")
@click.option("--probe-seconds", default=15.0, show_default=True, help="Interval of the claim probe.")
@click.option("--users", default=50, show_default=True, help="Users the payable orders belong to (one balance row each).")
@click.option("--options", default=8, show_default=True, help="Product options they buy (one stock row each).")
@click.option("--quick", is_flag=True, help="6 minutes, windows of 1, retention 1 minute, long transaction 1 minute.")
def main(minutes, window_minutes, rate, retention_minutes, retention_interval_seconds, long_transaction_minutes,
         long_transaction_window, autovacuum, probe_seconds, users, options, quick) -> None:
    base = QUICK if quick else Plan()
    plan = Plan(minutes=minutes or base.minutes, window_minutes=window_minutes or base.window_minutes, rate=rate,
                retention_minutes=retention_minutes or base.retention_minutes, retention_interval_s=retention_interval_seconds,
                long_transaction_minutes=base.long_transaction_minutes if long_transaction_minutes is None else long_transaction_minutes,
                long_transaction_window=long_transaction_window, autovacuum=outbox_stats.autovacuum_options(autovacuum),
                probe_s=probe_seconds, users=users, options=options)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    infra = Infrastructure.from_environment()
    described = machine.describe(infra.database_url, infra.redis_url)
    result = run(plan, infra)
    result["machine"] = described
    result.update({"load_average_at_start": load_at_start, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"soak-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    (RESULTS / f"soak-{stamp}.md").write_text("\n".join([f"# Outbox soak {stamp}", "", f"Machine: {machine.caption(described)}.", "",
                                                        *markdown(result), ""]))
    click.echo("\n".join(markdown(result)))
    click.echo(f"wrote {RESULTS / f'soak-{stamp}.json'}")


if __name__ == "__main__":
    main()
