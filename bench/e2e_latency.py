"""End-to-end latency: payment commit to the Redis write, with the three services running.

Payments at a fixed open-loop rate go to the API; the relay and the worker carry each event to
Redis. A subscriber in its own process listens to Redis keyspace notifications for
`data:order:processed:*` (notify-keyspace-events is switched on for the run and restored after)
and stamps the wall-clock time each key is first written. Latency = that stamp minus the payment's
`paidAt`. The API takes `paidAt` when the request's transaction starts (before the idempotency
claim, the row locks, every statement and the commit's WAL flush), so this figure is "payment
started -> Redis" and overstates commit-to-Redis by the whole transaction, which grows with the
API's own load. `from_answer_*` measures from the moment the client got the answer (after commit),
which understates commit-to-Redis only by writing and reading the HTTP response. The truth lies
between the two, much nearer the second; `paid_to_answer_*` (answer minus `paidAt`) is the width
of that interval, i.e. the API's share of the first figure. `from_commit_*` is the truth itself:
PostgreSQL's commit timestamp of the payment's transaction (`pg_xact_commit_timestamp` of the
order row's xmin; the stack runs with track_commit_timestamp=on; a PAID order is never updated
again) to the Redis write. All processes run on this machine: one clock.
"""
import multiprocessing
import time
from datetime import datetime

import redis
from sqlalchemy import create_engine, text

from bench.dataset import payable_orders
from bench.payment_load import measure
from harness.pipeline import Pipeline
from harness.provision import Infrastructure, drop, provision
from harness.stats import percentiles
from platform_worker.store import redis_key

KEY_PREFIX = redis_key(0)[:-1]


def _subscribe(redis_url: str, ready, stop, results) -> None:
    client = redis.Redis.from_url(redis_url)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(f"__keyspace@{db}__:{KEY_PREFIX}*")
    ready.set()
    seen: dict[str, float] = {}
    while not stop.is_set():
        message = pubsub.get_message(timeout=0.2)
        if message and message["data"] == b"set":
            key = message["channel"].decode().split(":", 1)[1]
            seen.setdefault(key, time.time())
    results.put(seen)
    pubsub.close()
    client.close()


class KeyspaceStamps:
    """Wall-clock time of the first SET of each data:order:processed:* key while it runs."""

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        context = multiprocessing.get_context("spawn")
        self.ready, self.stop, self.results = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(target=_subscribe, args=(redis_url, self.ready, self.stop, self.results), daemon=True)

    def __enter__(self) -> "KeyspaceStamps":
        self.client = redis.Redis.from_url(self.redis_url)
        self.previous = self.client.config_get("notify-keyspace-events").get("notify-keyspace-events", "")
        self.client.config_set("notify-keyspace-events", "".join(sorted(set(self.previous) | set("K$"))))
        self.process.start()
        if not self.ready.wait(30):
            raise RuntimeError("keyspace subscriber did not start")
        return self

    def collect(self, timeout_s: float = 60.0) -> dict[str, float]:
        self.stop.set()
        seen = self.results.get(timeout=timeout_s)
        self.process.join(timeout=10)
        return seen

    def __exit__(self, *_exc) -> None:
        self.client.config_set("notify-keyspace-events", self.previous)
        self.client.close()
        if self.process.is_alive():
            self.process.terminate()


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def latencies(outcomes, stamps: dict[str, float]) -> tuple[list[float], list[float], int]:
    """From paidAt (the transaction's start: an upper bound) and from the client's answer (after commit: a lower bound)."""
    from_paid, from_answer, missing = [], [], 0
    for o in outcomes:
        if o.status != 200:
            continue
        stamp = stamps.get(redis_key(o.detail["order_id"]))
        if stamp is None:
            missing += 1
        else:
            from_paid.append((stamp - _epoch(o.detail["paid_at"])) * 1000)
            from_answer.append((stamp - o.detail["answered_at"]) * 1000)
    return from_paid, from_answer, missing


def commit_times(database_url: str, outcomes) -> dict[int, float]:
    """Epoch seconds at which each paid order's transaction committed; empty without commit timestamps."""
    ids = [o.detail["order_id"] for o in outcomes if o.status == 200]
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if conn.execute(text("SHOW track_commit_timestamp")).scalar() != "on":
                return {}
            rows = conn.execute(text(
                "SELECT id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) FROM orders WHERE id = ANY(:ids)"
            ), {"ids": ids})
            return {order_id: float(at) for order_id, at in rows if at is not None}
    finally:
        engine.dispose()


def from_commit(outcomes, stamps: dict[str, float], committed: dict[int, float]) -> list[float]:
    values = []
    for o in outcomes:
        order_id = o.detail["order_id"]
        stamp = stamps.get(redis_key(order_id))
        if o.status == 200 and stamp is not None and order_id in committed:
            values.append((stamp - committed[order_id]) * 1000)
    return values


def wait_for_keys(redis_url: str, outcomes, timeout_s: float) -> None:
    client = redis.Redis.from_url(redis_url)
    keys = [redis_key(o.detail["order_id"]) for o in outcomes if o.status == 200]
    deadline = time.monotonic() + timeout_s
    while keys and time.monotonic() < deadline and client.exists(*keys) < len(keys):
        time.sleep(0.2)
    client.close()


def one_run(infra: Infrastructure, database_url: str, api_port: int, batch, rate: float, duration_s: float) -> dict:
    """Pays `batch` at `rate` through the running pipeline's API; latencies of the events to Redis."""
    with KeyspaceStamps(infra.redis_url) as stamps:
        load, outcomes = measure(api_port, batch, rate, duration_s)
        wait_for_keys(infra.redis_url, outcomes, 60)
        seen = stamps.collect()
        values, from_answer, missing = latencies(outcomes, seen)
        committed = from_commit(outcomes, seen, commit_times(database_url, outcomes))
    lower = percentiles(from_answer)
    exact = {f"from_commit_{k}": v for k, v in percentiles(committed).items()} if committed else {}
    api_share = percentiles([paid - answer for paid, answer in zip(values, from_answer)])
    return {**percentiles(values), **exact, **{f"from_answer_{k}": v for k, v in lower.items()},
            **{f"paid_to_answer_{k}": v for k, v in api_share.items()},
            "payments": load["requests"], "accepted": len(values) + missing,
            "not_in_redis_within_60s": missing, "payment_p99_ms": load["p99_ms"],
            "throughput_per_s": load["throughput_per_s"]}


def run(rates=(100.0, 500.0), duration_s: float = 10.0, repeats: int = 3, infra: Infrastructure | None = None) -> dict:
    infra = infra or Infrastructure.from_environment()
    run_ = provision(infra, "bench_e2e")
    pipeline = Pipeline(run_.service_env(infra, infra.brokers), log_prefix=f"bench-e2e-{run_.run_id}")
    results: dict = {}
    try:
        orders = payable_orders(run_.database_url, int(sum(rates) * duration_s * repeats) + 10)
        pipeline.start()
        used = 0
        for rate in rates:
            runs = []
            for _ in range(repeats):
                batch = orders[used:used + int(rate * duration_s)]
                used += len(batch)
                runs.append(one_run(infra, run_.database_url, pipeline.api_port, batch, rate, duration_s))
            results[str(int(rate))] = runs
    finally:
        pipeline.stop()
        drop(infra, run_)
    return results
