"""Why the outbox: the naive payment endpoint (bench/naive_payment.py) against ours, same run.

Both serve the same payment transaction on the same database with the same gunicorn settings, at
the same open-loop rate; the naive one also publishes to Kafka inside the request. Conditions:
  healthy         Kafka up
  broker_slow     the naive app reaches Kafka through harness.latency_proxy adding `slow_ms` each way
  broker_stopped  Kafka stopped with `stack/native.sh stop kafka` (started again at the end, always)
Ours (order-api) never talks to Kafka, so only its database matters. During the outage the naive
requests each hold a server thread until the producer gives up (5 s), so the client gets more
threads and a shorter timeout there to keep the run bounded; both variants get the same settings.
"""
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bench.dataset import payable_orders
from bench.payment_load import measure
from harness.latency_proxy import ProxyProcess
from harness.pipeline import RUN_LOGS
from harness.provision import Infrastructure, drop, provision
from harness.services import BIN, ServiceProcess, free_port
from harness.stack import stack
from harness.stats import median_spread

ROOT = Path(__file__).resolve().parents[1]
CONDITIONS = ("healthy", "broker_slow", "broker_stopped")


def start_server(name: str, command: list[str], env: dict, health: str) -> ServiceProcess:
    port = free_port()
    service = ServiceProcess(name, {**env, "API_PORT": str(port), "PYTHONPATH": str(ROOT)},
                             f"http://127.0.0.1:{port}{health}", command, RUN_LOGS / f"bench-{name}.log")
    service.port = port
    return service.start()


def _naive(env: dict, brokers: str, name: str) -> ServiceProcess:
    return start_server(name, [sys.executable, "-m", "bench.naive_payment"], {**env, "KAFKA_BROKERS": brokers}, "/healthz")


def _runs(port, orders, rate, duration_s, repeats, threads) -> list[dict]:
    runs = []
    for _ in range(repeats):
        batch = [orders.pop() for _ in range(int(rate * duration_s))]
        runs.append(measure(port, batch, rate, duration_s, threads)[0])
    return runs


def summary(runs: list[dict]) -> dict:
    return {key: median_spread(runs, key) for key in ("p50_ms", "p99_ms", "success_rate", "throughput_per_s")}


def run(rate: float = 100.0, duration_s: float = 10.0, repeats: int = 3, slow_ms: float = 50.0,
        infra: Infrastructure | None = None) -> dict:
    infra = infra or Infrastructure.from_environment()
    run_ = provision(infra, "bench_naive")
    env = run_.service_env(infra, infra.brokers)
    orders = payable_orders(run_.database_url, int(rate * duration_s * repeats * 2 * len(CONDITIONS)) + 10)
    proxy = ProxyProcess(free_port(), urlsplit(f"//{infra.brokers.split(',')[0]}").port).start()
    servers: list[ServiceProcess] = []
    results: dict = {}
    try:
        outbox = start_server("outbox-api", [str(BIN / "order-api")], env, "/readyz")
        naive, naive_slow = _naive(env, infra.brokers, "naive-api"), _naive(env, proxy.brokers, "naive-api-proxied")
        servers += [outbox, naive, naive_slow]
        results["healthy"] = {"naive": _runs(naive.port, orders, rate, duration_s, repeats, 64),
                              "outbox": _runs(outbox.port, orders, rate, duration_s, repeats, 64)}
        proxy.set_delay(slow_ms)
        results["broker_slow"] = {"naive": _runs(naive_slow.port, orders, rate, duration_s, repeats, 64),
                                  "outbox": _runs(outbox.port, orders, rate, duration_s, repeats, 64)}
        proxy.set_delay(0)
        stack("stop", "kafka")
        try:
            short = max(2.0, duration_s / 2)
            # ours first (afterwards the naive server still works off its backlog of doomed
            # publishes), measured exactly as with Kafka up, so the down/up ratio compares like
            # with like; the naive runs are shorter, with more client threads for hung requests
            outbox_runs = _runs(outbox.port, orders, rate, duration_s, repeats, 64)
            results["broker_stopped"] = {"naive": _runs(naive.port, orders, rate, short, repeats, 256), "outbox": outbox_runs}
        finally:
            for server in (naive, naive_slow):  # drop their backlog of doomed publishes
                server.kill()
            stack("start", "kafka")
    finally:
        for server in servers:
            server.stop(timeout=5)
        proxy.stop()
        drop(infra, run_)
    return {"rate_per_s": rate, "duration_s": duration_s, "repeats": repeats, "slow_ms_each_way": slow_ms,
            "conditions": {c: {v: {"summary": summary(r), "runs": r} for v, r in variants.items()}
                           for c, variants in results.items()},
            "ratios_naive_over_outbox_p99": {c: _ratio(results[c]) for c in results}}


def _ratio(variants: dict) -> float | None:
    naive, outbox = summary(variants["naive"])["p99_ms"]["median"], summary(variants["outbox"])["p99_ms"]["median"]
    return round(naive / outbox, 2) if naive and outbox else None
