"""What the outbox costs the payment itself: latency at 300/s and the highest sustained rate, per variant.

Variants, all on one database of the bench's own, no relay running (the payment's own cost only):

- `notify`: order-api as shipped, the outbox row and its statement-level NOTIFY trigger, which
  takes PostgreSQL's one global notify lock at commit and holds it through the commit's WAL flush;
- `no_trigger`: the same API with the trigger disabled (`ALTER TABLE outbox DISABLE TRIGGER
  outbox_notify`, what a relay with RELAY_WAKEUP=poll allows);
- `no_row`: the same API, trigger disabled, and a BEFORE INSERT trigger that drops the outbox row
  (the INSERT statement's round trip stays: what storing the row and its five indexes costs);
- `no_outbox`: bench/naive_payment.py with BENCH_NAIVE_PUBLISH=false: the same payment transaction
  without the outbox row, in a lighter Flask app (no validation, metrics or tracing layers).

Each repeat runs every variant over the ladder of open-loop rates (`--rates`). Sustained = achieved
throughput at least 95 % of the offered rate, no errors. Also the commit ceiling of bare one-row
outbox INSERTs with pgbench, trigger on and off, at 1, 8 and 32 writers: the notify lock in isolation.

    python -m bench.payment_cost [--rates 300,600,900,1200] [--seconds 8] [--repeats 3]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click
from sqlalchemy import create_engine, text

from bench.dataset import payable_orders
from bench.payment_load import measure
from bench.naive_vs_outbox import start_server
from harness.provision import Infrastructure, drop, provision
from harness.services import BIN, ServiceProcess
from harness.stats import median_spread
from outbox_relay.wakeup import libpq_dsn

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("notify", "no_trigger", "no_row", "no_outbox")
_DROP_ROW = """
CREATE OR REPLACE FUNCTION bench_drop_outbox_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER bench_drop_outbox_row BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION bench_drop_outbox_row();
ALTER TABLE outbox DISABLE TRIGGER bench_drop_outbox_row;
"""
_TRIGGERS = {"notify": ("ENABLE", "DISABLE"), "no_trigger": ("DISABLE", "DISABLE"), "no_row": ("DISABLE", "ENABLE"),
             "no_outbox": ("DISABLE", "DISABLE")}
_INSERT = ("INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload) "
           "VALUES (gen_random_uuid(), 'order', '1', 'order.processed', 'pgbench', '{\"orderId\": 1}');\n")


def set_triggers(url: str, variant: str) -> None:
    notify, drop_row = _TRIGGERS[variant]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE outbox {notify} TRIGGER outbox_notify"))
        conn.execute(text(f"ALTER TABLE outbox {drop_row} TRIGGER bench_drop_outbox_row"))
    engine.dispose()


def ladder(port: int, orders: list, rates: tuple[float, ...], seconds: float) -> dict[str, dict]:
    results = {}
    for rate in rates:
        batch = [orders.pop() for _ in range(int(rate * seconds))]
        results[str(int(rate))] = measure(port, batch, rate, seconds)[0]
    return results


def commit_ceiling(url: str, writers: tuple[int, ...] = (1, 8, 32), seconds: int = 5) -> dict:
    """Transactions per second of one autocommitted outbox INSERT each, pgbench, trigger on and off."""
    results: dict = {}
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(_INSERT)
    for variant in ("notify", "no_trigger"):
        set_triggers(url, variant)
        for clients in writers:
            out = subprocess.run(["pgbench", "-n", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds),
                                  "-f", script.name, libpq_dsn(url)], capture_output=True, text=True, check=True).stdout
            tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
            latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
            results.setdefault(variant, {})[str(clients)] = {"tps": round(tps), "latency_ms": latency}
    Path(script.name).unlink()
    return results


def summarise(runs: dict[str, list[dict]], rates: tuple[float, ...]) -> dict:
    summary = {}
    for variant, repeats in runs.items():
        by_rate = {str(int(r)): [run[str(int(r))] for run in repeats] for r in rates}
        figures = {rate: {k: median_spread(rs, k)["median"] for k in ("throughput_per_s", "p50_ms", "p99_ms", "error_rate")}
                   for rate, rs in by_rate.items()}
        sustained = [float(rate) for rate, f in figures.items()
                     if f["throughput_per_s"] >= 0.95 * float(rate) and not f["error_rate"]]
        summary[variant] = {"rates": figures, "max_sustained_per_s": max(sustained, default=None),
                            "max_achieved_per_s": max(f["throughput_per_s"] for f in figures.values())}
    return summary


def run(rates: tuple[float, ...] = (300.0, 600.0, 900.0, 1200.0), seconds: float = 8.0, repeats: int = 3,
        infra: Infrastructure | None = None) -> dict:
    infra = infra or Infrastructure.from_environment()
    run_ = provision(infra, "bench_paycost")
    env = run_.service_env(infra, infra.brokers)
    servers: list[ServiceProcess] = []
    runs: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    try:
        engine = create_engine(run_.database_url)
        with engine.begin() as conn:
            conn.exec_driver_sql(_DROP_ROW)
        engine.dispose()
        orders = payable_orders(run_.database_url, int(sum(rates) * seconds) * repeats * len(VARIANTS) + 10)
        api = start_server("paycost-api", [str(BIN / "order-api")], env, "/readyz")
        bare = start_server("paycost-no-outbox", [sys.executable, "-m", "bench.naive_payment"],
                       {**env, "BENCH_NAIVE_PUBLISH": "false"}, "/healthz")
        servers += [api, bare]
        for _ in range(repeats):  # variants interleaved, so a noisy minute does not hit one only
            for variant in VARIANTS:
                set_triggers(run_.database_url, variant)
                runs[variant].append(ladder(bare.port if variant == "no_outbox" else api.port, orders, rates, seconds))
        ceiling = commit_ceiling(run_.database_url)
    finally:
        for server in servers:
            server.stop(timeout=5)
        drop(infra, run_)
    return {"rates": list(rates), "seconds": seconds, "repeats": repeats, "summary": summarise(runs, rates),
            "commit_ceiling": ceiling, "runs": runs}


def markdown(result: dict) -> list[str]:
    lines = ["| variant | p50 ms at 300/s | p99 ms at 300/s | max sustained /s | max achieved /s |", "|---|---|---|---|---|"]
    for variant, s in result["summary"].items():
        at = s["rates"].get("300", {})
        lines.append(f"| {variant} | {at.get('p50_ms')} | {at.get('p99_ms')} | {s['max_sustained_per_s']} | {s['max_achieved_per_s']} |")
    lines += ["", "| bare INSERT commits/s (pgbench) | " + " | ".join(f"{w} writers" for w in result["commit_ceiling"]["notify"]) + " |",
              "|---|" + "---|" * len(result["commit_ceiling"]["notify"])]
    for variant, by_writers in result["commit_ceiling"].items():
        lines.append(f"| {variant} | " + " | ".join(f"{f['tps']:,}" for f in by_writers.values()) + " |")
    return lines


@click.command()
@click.option("--rates", default="300,600,900,1200", show_default=True)
@click.option("--seconds", default=8.0, show_default=True)
@click.option("--repeats", default=3, show_default=True)
def main(rates: str, seconds: float, repeats: int) -> None:
    result = run(tuple(float(r) for r in rates.split(",")), seconds, repeats)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = ROOT / "bench" / "results" / f"payment_cost-{stamp}.json"
    path.write_text(json.dumps(result, indent=2))
    click.echo("\n".join(markdown(result)))
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
