"""The three-node cluster next to the single node, in one run: relay drain rate and end-to-end latency.

The single node is the stack's Kafka (KAFKA_BROKERS); the cluster is started for the stage in a
stack directory and on ports of its own, exactly as the cluster tests start theirs
(harness/cluster.py: TEST_CLUSTER_STACK_DIR, TEST_CLUSTER_KAFKA_PORT), and stopped at the end.
PostgreSQL and Redis are the stack's. Rounds alternate single node and cluster, so the machine's
noise falls on both; each figure is the median of its rounds, the ratios are cluster / single.

    python -m bench.cluster [--rows 30000] [--rounds 3] [--rate 300] [--seconds 10]
"""
import contextlib
import json
import os
import statistics
from datetime import datetime, timezone
from pathlib import Path

import click

from bench import e2e_latency, relay_drain
from harness.cluster import Cluster
from harness.provision import Infrastructure

RESULTS = Path(__file__).resolve().parent / "results"


@contextlib.contextmanager
def brokers(servers: str):
    """The relay's Settings and the services read KAFKA_BROKERS from the environment."""
    before = os.environ.get("KAFKA_BROKERS")
    os.environ["KAFKA_BROKERS"] = servers
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("KAFKA_BROKERS")
        else:
            os.environ["KAFKA_BROKERS"] = before


def one_side(servers: str, infra: Infrastructure, rows: int, rate: float, seconds: float) -> dict:
    with brokers(servers):
        drain = relay_drain.run(rows=rows, rounds=1)
        latency = e2e_latency.run((rate,), seconds, 1, Infrastructure(infra.database_url, servers, infra.redis_url))
    e2e = latency[str(int(rate))][0]
    return {"relay_events_per_s": drain["relay_events_per_s"], "raw_producer_events_per_s": drain["raw_producer_events_per_s"],
            "e2e_p50_ms": e2e["p50"], "e2e_p99_ms": e2e["p99"], "payment_p99_ms": e2e["payment_p99_ms"]}


def run(rows: int = 30_000, rounds: int = 3, rate: float = 300.0, seconds: float = 10.0) -> dict:
    infra = Infrastructure.from_environment()
    cluster = Cluster.for_tests().start()
    sides: dict[str, list[dict]] = {"single": [], "cluster": []}
    try:
        for _ in range(rounds):
            sides["single"].append(one_side(infra.brokers, infra, rows, rate, seconds))
            sides["cluster"].append(one_side(cluster.brokers, infra, rows, rate, seconds))
    finally:
        cluster.stop()
    medians = {side: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for side, runs in sides.items()}
    ratios = {k: round(medians["cluster"][k] / medians["single"][k], 3) for k in medians["single"]}
    return {"rows": rows, "rate_per_s": rate, "seconds": seconds, "rounds": sides, "median": medians,
            "cluster_to_single": ratios, "load_average_at_end": round(os.getloadavg()[0], 2)}


@click.command()
@click.option("--rows", default=30_000, show_default=True, help="Backlog the relay drains per round.")
@click.option("--rounds", default=3, show_default=True)
@click.option("--rate", default=300.0, show_default=True, help="Payments per second for the end-to-end latency.")
@click.option("--seconds", default=10.0, show_default=True)
def main(rows: int, rounds: int, rate: float, seconds: float) -> None:
    result = run(rows, rounds, rate, seconds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"cluster-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2))
    click.echo(json.dumps({"median": result["median"], "cluster_to_single": result["cluster_to_single"]}, indent=2))
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
