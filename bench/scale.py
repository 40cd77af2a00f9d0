"""What a full outbox costs: the relay and the end-to-end latency with 0, 5 and 20 million published rows.

One database (migrated to head, topics and group of its own) is grown in place from one history
size to the next (bench/history.py). At each size:

- the table's size (heap, each index, in all) and per million rows;
- the relay's prepared claim on 100,000 pending rows: wall ms per batch and its
  `EXPLAIN (ANALYZE, BUFFERS)`, kept in the result;
- the drain rate of 100,000 pending rows by the relay's own code (bench/relay_drain.py), `--rounds`
  times, each round alternating with the same drain on an empty outbox of another database (the
  control: the machine is shared, so each size also has an empty-table figure of the same minute);
  drained rows are deleted again, so the history stays the size it was grown to;
- retention's delete rate of 50,000 expired rows beside the history;
- end-to-end p50/p99 at 300 payments/s (API, relay, worker; bench/e2e_latency.py), `--repeats` times;
- with `--long-transaction-rounds N`, after the last size: N successive drains while another
  session holds a snapshot open, which keeps vacuum from removing what the claims leave behind;
- after the last size, retention's cost of removing the oldest day of history: the batched DELETE
  on the plain table, pg_partman's partition drop on the partitioned one (seconds, dead row
  versions left, the VACUUM after).

`--layouts plain,partitioned` runs all of it once per layout of the outbox, one after the other
(each database dropped before the next is grown): `plain` (the default) is one table,
`partitioned` the daily partitions migration 0005 makes with OUTBOX_LAYOUT=partitioned. Ratios are to the first size
(normally 0) of the same layout, and for the drain also to its control. Reported, never asserted.

    python -m bench.scale [--layouts plain,partitioned] [--history 0,5000000,20000000] [--rows 100000]
                          [--rounds 3] [--repeats 3] [--seconds 10]
"""
import json
import os
import shutil
import statistics
from datetime import datetime, timezone
from pathlib import Path

import click
import psycopg2
from sqlalchemy import create_engine

from bench import e2e_latency, history, machine, relay_drain
from bench.dataset import payable_orders
from common.kafka_admin import delete_topics, ensure_topics
from harness import database
from harness.pipeline import Pipeline
from harness.provision import Infrastructure, drop, provision
from harness.stats import median_spread
from outbox_relay import interpreter
from outbox_relay.config import Settings
from outbox_relay.wakeup import libpq_dsn

RESULTS = Path(__file__).resolve().parent / "results"
LAYOUTS = ("plain", "partitioned")  # OUTBOX_LAYOUT of migration 0005


def drain_rate(settings: Settings, topic: str, rows: int) -> int:
    """Rows/s of the relay draining `rows` fresh pending rows; drained rows are deleted afterwards."""
    engine = create_engine(settings.database_url)
    before = history.last_id(engine)
    relay_drain.write_backlog(settings.database_url, topic, rows)
    seconds = relay_drain.relay_seconds(settings, None)
    history.forget_after(engine, before)
    engine.dispose()
    return round(rows / seconds)


def one_size(base: Settings, urls: tuple[str, str], topic: str, size: int, rows: int, rounds: int) -> dict:
    url, control_url = urls
    engine = create_engine(url)
    try:
        before = history.last_id(engine)
        relay_drain.write_backlog(url, topic, rows)
        claim = history.explain_claim(url, base.batch_size, before, times=max(1, min(5, rows // (2 * base.batch_size))))
        history.forget_after(engine, before)
        history.vacuum(engine)
        drains, controls = [], []
        with interpreter.tuned():
            for _ in range(rounds):
                controls.append(drain_rate(base.model_copy(update={"database_url": control_url}), topic, rows))
                drains.append(drain_rate(base.model_copy(update={"database_url": url}), topic, rows))
        retention = history.retention_rate(engine, 50_000)
        table = history.sizes(engine)
    finally:
        engine.dispose()
    return {"history_rows": size, "table": table, "claim": claim, "drain_rows_per_s": drains,
            "control_rows_per_s": controls, "retention_rows_per_s": retention,
            "drain_to_control": round(statistics.median(d / c for d, c in zip(drains, controls)), 3)}


def under_a_long_transaction(base: Settings, url: str, topic: str, rows: int, rounds: int) -> list[dict]:
    """Drains while another session holds a snapshot open (REPEATABLE READ, idle in transaction): no
    dead row version younger than it can be vacuumed, so each claim walks past every row claimed
    since it began. Rows/s and the claim per batch of each successive drain."""
    holder = psycopg2.connect(libpq_dsn(url))
    holder.set_session(isolation_level="REPEATABLE READ")
    holder.cursor().execute("SELECT count(*) FROM outbox_retry")  # takes the snapshot
    engine = create_engine(url)
    results = []
    try:
        for n in range(rounds):
            before = history.last_id(engine)
            relay_drain.write_backlog(url, topic, rows)
            claim = history.explain_claim(url, base.batch_size, before, times=1)
            seconds = relay_drain.relay_seconds(base.model_copy(update={"database_url": url}), None)
            history.forget_after(engine, before)
            results.append({"rows_claimed_since_snapshot": n * rows, "drain_rows_per_s": round(rows / seconds),
                            "claim_ms_per_batch": claim["claim_ms"], "claim_buffers": next(l.strip() for l in claim["plan"] if "Buffers" in l)})
    finally:
        holder.close()
        engine.dispose()
    return results


def end_to_end(infra: Infrastructure, run_, orders: list, rate: float, seconds: float, repeats: int) -> list[dict]:
    pipeline = Pipeline(run_.service_env(infra, infra.brokers), log_prefix=f"bench-scale-{run_.run_id}")
    try:
        pipeline.start()
        runs = []
        for _ in range(repeats):
            batch = [orders.pop() for _ in range(int(rate * seconds))]
            runs.append(e2e_latency.one_run(infra, run_.database_url, pipeline.api_port, batch, rate, seconds))
        return runs
    finally:
        pipeline.stop()


def run(sizes=(0, 5_000_000, 20_000_000), rows: int = 100_000, rounds: int = 3, repeats: int = 3,
        rate: float = 300.0, seconds: float = 10.0, infra: Infrastructure | None = None, long_rounds: int = 0,
        outbox_layout: str = "plain") -> dict:
    infra = infra or Infrastructure.from_environment()
    base = Settings()
    run_ = provision(infra, "bench_scale", outbox_layout=outbox_layout)
    control_name, control_url = relay_drain.fresh_database(base.database_url, outbox_layout=outbox_layout)
    topic = f"bench-scale-drain-{run_.run_id}"
    results, have, long_transaction, retention = [], 0, [], None
    engine = create_engine(run_.database_url)
    try:
        ensure_topics(infra.brokers, [(topic, 6)])
        orders = payable_orders(run_.database_url, int(rate * seconds) * repeats * len(sizes) + 10)[::-1]
        for size in sizes:
            grown_s = history.grow(engine, "order.processed", have, size)
            have = size
            click.echo(f"   history {size:,} rows (grown in {grown_s:.0f} s); load {os.getloadavg()[0]:.2f}", err=True)
            figures = one_size(base, (run_.database_url, control_url), topic, size, rows, rounds)
            figures["e2e"] = end_to_end(infra, run_, orders, rate, seconds, repeats)
            figures["grow_s"] = round(grown_s, 1)
            figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            figures["disk_free_gb"] = round(shutil.disk_usage(RESULTS).free / 1e9, 1)
            results.append(figures)
        if long_rounds:
            with interpreter.tuned():
                long_transaction = under_a_long_transaction(base, run_.database_url, topic, rows, long_rounds)
        if have:
            retention = history.retention_cost(engine)
            click.echo(f"   retention of the oldest day: {retention}", err=True)
    finally:
        engine.dispose()
        drop(infra, run_)
        database.drop_database(base.database_url, control_name)
        delete_topics(infra.brokers, topic)
    return {**summarise(results, rows, rate, seconds), "long_transaction": long_transaction, "retention_day": retention,
            "outbox_layout": outbox_layout}


def _e2e_key(runs: list[dict], key: str) -> float | None:
    exact = all(r.get(f"from_commit_{key}") is not None for r in runs)
    return median_spread(runs, f"from_commit_{key}" if exact else key)["median"]


def summarise(results: list[dict], rows: int, rate: float, seconds: float) -> dict:
    first = results[0]
    first_rate = statistics.median(first["drain_rows_per_s"])
    first_p50, first_p99 = _e2e_key(first["e2e"], "p50"), _e2e_key(first["e2e"], "p99")
    table = []
    for r in results:
        drain, p50, p99 = statistics.median(r["drain_rows_per_s"]), _e2e_key(r["e2e"], "p50"), _e2e_key(r["e2e"], "p99")
        millions = r["history_rows"] / 1e6
        table.append({
            "history_rows": r["history_rows"], "drain_rows_per_s": drain, "drain_ratio": round(drain / first_rate, 3),
            "drain_to_control": r["drain_to_control"], "control_rows_per_s": statistics.median(r["control_rows_per_s"]),
            "claim_ms_per_batch": r["claim"]["claim_ms"], "claim_explain_ms": r["claim"]["explain_execution_ms"],
            "claim_partitions": r["claim"].get("partitions"), "claim_totals": r["claim"].get("totals"),
            "retention_rows_per_s": r["retention_rows_per_s"],
            "e2e_p50_ms": p50, "e2e_p99_ms": p99, "e2e_p99_ratio": round(p99 / first_p99, 3) if p99 and first_p99 else None,
            "e2e_p50_ratio": round(p50 / first_p50, 3) if p50 and first_p50 else None,
            "table_gb": round(r["table"]["total_bytes"] / 1e9, 2),
            "mb_per_million_rows": round(r["table"]["total_bytes"] / 1e6 / millions) if millions >= 0.1 else None,
            "load_average_after": r["load_average_after"],
        })
    return {"rows": rows, "rate_per_s": rate, "seconds": seconds, "cpus": os.cpu_count(), "table": table, "sizes": results}


def markdown(result: dict) -> list[str]:
    lines = [f"Drain of {result['rows']:,} pending rows (median of rounds; control = the same drain on an empty "
             f"outbox in the same minute), the claim per batch of the relay's prepared statement, end-to-end "
             f"commit → Redis at {result['rate_per_s']:g} payments/s. Ratios to the first history size.", "",
             "| history rows | drain rows/s | ratio | vs control | claim ms/batch | retention rows/s | e2e p50 ms | e2e p99 ms | p99 ratio | table GB | MB per million rows | load after |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in result["table"]:
        lines.append(f"| {t['history_rows']:,} | {t['drain_rows_per_s']:,} | {t['drain_ratio']} | {t['drain_to_control']} | "
                     f"{t['claim_ms_per_batch']} | {t['retention_rows_per_s']:,} | {t['e2e_p50_ms']} | {t['e2e_p99_ms']} | "
                     f"{t['e2e_p99_ratio']} | {t['table_gb']} | {t['mb_per_million_rows']} | {t['load_average_after'][0]} |")
    if any(t.get("claim_totals") for t in result["table"]):
        lines += ["", "What one claim of a batch touched (EXPLAIN (ANALYZE, BUFFERS, WAL); fpi = full-page images, "
                  "the whole 8 kB page written to the WAL on its first change after a checkpoint):", "",
                  "| history rows | buffers hit | read | dirtied | written | WAL records | fpi | WAL MB |", "|---|---|---|---|---|---|---|---|"]
        for t in result["table"]:
            totals = t.get("claim_totals") or {}
            b, w = totals.get("buffers", {}), totals.get("wal", {})
            lines.append(f"| {t['history_rows']:,} | {b.get('hit', 0):,} | {b.get('read', 0):,} | {b.get('dirtied', 0):,} | "
                         f"{b.get('written', 0):,} | {w.get('records', 0):,} | {w.get('fpi', 0):,} | {w.get('bytes', 0) / 1e6:.1f} |")
    if result.get("long_transaction"):
        lines += ["", f"Successive drains of {result['rows']:,} rows while another session holds a snapshot open "
                  f"(idle in transaction), with {result['sizes'][-1]['history_rows']:,} rows of history:", "",
                  "| rows claimed since the snapshot | drain rows/s | claim ms/batch |", "|---|---|---|"]
        lines += [f"| {t['rows_claimed_since_snapshot']:,} | {t['drain_rows_per_s']:,} | {t['claim_ms_per_batch']} |"
                  for t in result["long_transaction"]]
    if result.get("retention_day"):
        r = result["retention_day"]
        lines += ["", f"Retention of the oldest day of history ({r['method']}): {r['rows_removed']:,} rows in {r['seconds']} s, "
                  f"{r['dead_rows_left']:,} dead row versions left, VACUUM after it {r['vacuum_after_s']} s."]
    last = result["sizes"][-1]
    pruning = last["claim"].get("partitions")
    if pruning and pruning["scan_nodes"]:
        lines += ["", f"Partition scans in the claim's plan: {pruning['scan_nodes']} nodes, {pruning['never_executed']} never "
                  f"executed (pruned at run time), {pruning['subplans_removed']} removed at start-up."]
    lines += ["", f"Claim plan with {last['history_rows']:,} rows of history:", "", "```", *last["claim"]["plan"], "```"]
    return lines


def comparison(by_layout: dict[str, dict]) -> list[str]:
    """One line per layout and history size, side by side."""
    lines = ["| layout | history rows | drain rows/s | vs control | claim ms/batch | e2e p50 / p99 ms | table GB |",
             "|---|---|---|---|---|---|---|"]
    for layout, result in by_layout.items():
        for t in result["table"]:
            lines.append(f"| {layout} | {t['history_rows']:,} | {t['drain_rows_per_s']:,} | {t['drain_to_control']} | "
                         f"{t['claim_ms_per_batch']} | {t['e2e_p50_ms']} / {t['e2e_p99_ms']} | {t['table_gb']} |")
    retention = [(layout, r["retention_day"]) for layout, r in by_layout.items() if r.get("retention_day")]
    if retention:
        lines += ["", "| layout | removing the oldest day | rows | seconds | dead row versions left | VACUUM after, s |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {layout} | {r['method']} | {r['rows_removed']:,} | {r['seconds']} | {r['dead_rows_left']:,} | {r['vacuum_after_s']} |"
                  for layout, r in retention]
    return lines


@click.command()
@click.option("--layouts", default="plain", show_default=True,
              help="Outbox layouts (OUTBOX_LAYOUT of migration 0005), comma-separated: plain and/or partitioned.")
@click.option("--history", default="0,5000000,20000000", show_default=True, help="History sizes, ascending, comma-separated.")
@click.option("--rows", default=100_000, show_default=True, help="Pending rows per drain.")
@click.option("--rounds", default=3, show_default=True, help="Drains per size (each beside a control drain).")
@click.option("--repeats", default=3, show_default=True, help="End-to-end runs per size.")
@click.option("--rate", default=300.0, show_default=True)
@click.option("--seconds", default=10.0, show_default=True, help="Length of each end-to-end run.")
@click.option("--long-transaction-rounds", "long_rounds", default=0, show_default=True,
              help="After the last size: this many drains while a snapshot is held open.")
def main(layouts: str, history: str, rows: int, rounds: int, repeats: int, rate: float, seconds: float, long_rounds: int) -> None:
    sizes = tuple(int(size) for size in history.split(","))
    if list(sizes) != sorted(sizes):
        raise click.BadParameter("history sizes must ascend (the table is grown, never shrunk)")
    names = [name.strip() for name in layouts.split(",")]
    if unknown := [name for name in names if name not in LAYOUTS]:
        raise click.BadParameter(f"unknown layouts {unknown}; choose from {sorted(LAYOUTS)}")
    by_layout = {}
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    infra = Infrastructure.from_environment()
    described = machine.describe(infra.database_url, infra.redis_url)
    for name in names:
        click.echo(f"layout {name}", err=True)
        by_layout[name] = run(sizes, rows, rounds, repeats, rate, seconds, infra=infra, long_rounds=long_rounds, outbox_layout=name)
        write_report(stamp, by_layout, described)  # after each layout, so a run cut short keeps what it measured


def write_report(stamp: str, by_layout: dict[str, dict], described: dict) -> None:
    result = {**next(iter(by_layout.values())), "layouts": by_layout} if len(by_layout) == 1 else {"layouts": by_layout}
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["machine"] = described
    report = [f"# Outbox history scale {stamp}", "", f"Machine: {machine.caption(described)}.", ""]
    if len(by_layout) > 1:
        report += ["Layouts side by side:", "", *comparison(by_layout), ""]
    for name, layout_result in by_layout.items():
        report += [f"## {name} (OUTBOX_LAYOUT={name})", "", *markdown(layout_result), ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scale-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    (RESULTS / f"scale-{stamp}.md").write_text("\n".join(report))
    click.echo("\n".join(report))
    click.echo(f"wrote {RESULTS / f'scale-{stamp}.json'}")


if __name__ == "__main__":
    main()
