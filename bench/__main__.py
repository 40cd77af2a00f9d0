"""`python -m bench [--quick] [--only STAGE ...]`: the benchmark suite, written to bench/results/.

Stages: payment_api, api_closed_loop (bench/api_payments.py), naive_vs_outbox, relay_drain, relay_cost (bench/relay_cost.py:
what the relay costs PostgreSQL per event at 100 and 500 rows/s), worker_throughput, e2e_latency,
tracing_cost (bench/tracing_cost.py), scale (bench/scale.py: drain, claim and end-to-end
latency with 0, 5 and 20 million rows of published history; --quick: 0, 0.5 and 2 million),
payment_cost (bench/payment_cost.py: the payment with the outbox row and NOTIFY trigger, without the
trigger, without the row), cluster (bench/cluster.py: a three-node cluster beside the single node), profile. Each is
repeated (default 3 times) and reported as median with spread; a stage that fails is reported as
failed and the others still run. `naive_vs_outbox` stops and starts the stack's Kafka.

Run only when named: soak (bench/soak.py: 300 payments/s through the three services for 30 minutes,
retention on a compressed clock, a long transaction in the third window; `--quick`: 6 minutes).
It takes half an hour, so `python -m bench` and `make bench` leave it out: `python -m bench --only soak`.
"""
import json
import os
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import click

from bench import machine, report
from harness.provision import Infrastructure
from harness.stats import median_spread

RESULTS = Path(__file__).resolve().parent / "results"
STAGES = (
    "payment_api", "api_closed_loop", "naive_vs_outbox", "relay_drain", "relay_cost", "worker_throughput", "e2e_latency", "tracing_cost",
    "scale", "payment_cost", "cluster", "profile",
)
ON_REQUEST = ("soak",)  # run only when named with --only


def _relay(quick: bool, repeats: int) -> dict:
    """bench/relay_drain.py (the relay engineer's): its rounds alternate raw producer and relay."""
    from bench import relay_drain

    result = relay_drain.run(rows=5_000 if quick else 100_000, rounds=repeats)
    rounds = [{"raw_producer_events_per_s": r["raw_events_per_s"], "relay_events_per_s": r["relay_events_per_s"],
               "relay_to_raw_ratio": r["ratio"]} for r in result["rounds"]]
    keys = ("raw_producer_events_per_s", "relay_events_per_s", "relay_to_raw_ratio")
    return {"summary": {k: median_spread(rounds, k) for k in keys}, "runs": rounds, "rows": result["rows"], "detail": result}


def _worker(quick: bool, repeats: int) -> dict:
    from bench import worker_throughput

    runs = [worker_throughput.run(records=5_000 if quick else 100_000) for _ in range(repeats)]
    keys = ("raw_consumer_records_per_s", "worker_records_per_s", "ratio")
    return {"summary": {k: median_spread(runs, k) for k in keys}, "runs": runs}


def stage(name: str, quick: bool, repeats: int, out_dir: Path, infra: Infrastructure) -> dict:
    from bench import e2e_latency, naive_vs_outbox, payment_load, profile_payment

    seconds = 3.0 if quick else 10.0
    if name == "payment_api":
        return payment_load.run((100.0, 300.0, 600.0, 1000.0), seconds, repeats, infra)
    if name == "naive_vs_outbox":
        return naive_vs_outbox.run(50.0 if quick else 100.0, seconds, repeats, 50.0, infra)
    if name == "relay_drain":
        return _relay(quick, repeats)
    if name == "relay_cost":
        from bench import relay_cost

        return {"variants": relay_cost.with_trade_ends((100.0, 500.0), 6.0 if quick else 30.0, repeats)}
    if name == "worker_throughput":
        return _worker(quick, repeats)
    if name == "e2e_latency":
        return e2e_latency.run((100.0, 500.0), seconds, repeats, infra)
    if name == "api_closed_loop":
        from bench import api_payments

        runs = [api_payments.run(seconds, 16, 2, 4, 5_000 if quick else 20_000) for _ in range(repeats)]
        flat = [{"payments_per_s": r["payments_per_s"], "p99_ms": r["latency_ms"]["p99"], "p50_ms": r["latency_ms"]["p50"]}
                for r in runs]
        return {"summary": {k: median_spread(flat, k) for k in ("payments_per_s", "p50_ms", "p99_ms")}, "runs": runs}
    if name == "scale":
        from bench import scale

        sizes = (0, 500_000, 2_000_000) if quick else (0, 5_000_000, 20_000_000)
        return scale.run(sizes, rows=20_000 if quick else 100_000, rounds=repeats, repeats=repeats, seconds=seconds)
    if name == "payment_cost":
        from bench import payment_cost

        return payment_cost.run((300.0, 600.0, 900.0, 1200.0), seconds, repeats, infra)
    if name == "cluster":
        from bench import cluster

        return cluster.run(rows=5_000 if quick else 30_000, rounds=repeats, seconds=seconds)
    if name == "tracing_cost":
        from bench import tracing_cost

        return tracing_cost.run(seconds, repeats)
    if name == "soak":
        from bench import soak

        return soak.run(soak.QUICK if quick else soak.Plan(), infra)
    if name == "profile":
        result = profile_payment.run(300 if quick else 1000, out_dir, infra)
        return result
    raise click.BadParameter(f"unknown stage {name}")


@click.command()
@click.option("--quick", is_flag=True, help="Short runs (3 s per measurement, small backlogs): a few minutes.")
@click.option("--only", "only", multiple=True, type=click.Choice(STAGES + ON_REQUEST),
              help="Run only these stages (soak runs only when named).")
@click.option("--repeats", default=3, show_default=True, help="Repetitions of every measurement (>= 3 for a report).")
def main(quick: bool, only: tuple[str, ...], repeats: int) -> None:
    infra = Infrastructure.from_environment()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir = RESULTS / stamp
    results = {"started_at": stamp, "quick": quick, "repeats": repeats,
               "machine": machine.describe(infra.database_url, infra.redis_url), "stages": {}}
    for name in only or STAGES:
        click.echo(f"== {name}")
        started = time.monotonic()
        try:
            results["stages"][name] = {"ok": True, **stage(name, quick, repeats, out_dir, infra)}
        except Exception as error:  # one broken stage must not cost the others' figures
            results["stages"][name] = {"ok": False, "error": repr(error), "traceback": traceback.format_exc()}
            click.echo(f"   failed: {error!r}")
        results["stages"][name]["seconds"] = round(time.monotonic() - started, 1)
        results["stages"][name]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / f"{stamp}.json"
    json_path.write_text(json.dumps(results, indent=2, default=str))
    md_path = report.write(results, RESULTS / f"{stamp}.md", out_dir)
    click.echo(f"wrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
