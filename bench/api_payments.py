"""Closed-loop throughput and latency of `POST /api/orders/{id}/payment` through gunicorn.

    python -m bench.api_payments [--seconds 20] [--clients 16] [--workers 4] [--threads 4]

Creates a database of its own next to DATABASE_URL's (migrated with Alembic, dropped at the end),
fills it with payable orders (bench.dataset), starts the real `order-api` console script on a
free port, then lets `--clients` threads each pay one order after another for `--seconds`.
Every request is a full payment transaction (order, user, options locked; balance log; outbox
row). Prints successful payments per second and p50/p95/p99/max latency; bounded in time.
"""
import argparse
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from alembic import command
from sqlalchemy.engine import make_url

from bench.dataset import payable_orders
from common import defaults
from harness import database
from harness.cpu import tree_cpu_seconds
from harness.services import free_port
from harness.stats import percentiles


def start_api(url: str, port: int, workers: int, threads: int, extra_env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "API_PORT": str(port), "API_WORKERS": str(workers),
           "API_THREADS": str(threads), "ADMIN_TOKEN": "bench", "ENVIRONMENT": "bench", "API_LOG_LEVEL": "WARNING",
           **(extra_env or {})}
    process = subprocess.Popen([str(Path(sys.executable).parent / "order-api")], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("order-api did not become ready")


def pay_loop(port: int, orders: list, lock: threading.Lock, stop_at: float, results: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    while time.monotonic() < stop_at:
        with lock:
            if not orders:
                return
            order_id, user_id = orders.pop()
        body = json.dumps({"userId": user_id})
        started = time.perf_counter()
        connection.request("POST", f"/api/orders/{order_id}/payment", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        results.append((response.status, (time.perf_counter() - started) * 1000))


def run(seconds: float, clients: int, workers: int, threads: int, orders_count: int, extra_env: dict | None = None) -> dict:
    base = os.environ.get("DATABASE_URL", defaults.DATABASE_URL)
    name = f"bench_api_{secrets.token_hex(4)}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    database.create_database(base, name)
    try:
        command.upgrade(database.alembic_config(url), "head")
        orders = payable_orders(url, orders_count)
        port = free_port()
        api = start_api(url, port, workers, threads, extra_env)
        try:
            lock, results = threading.Lock(), []
            cpu_before = tree_cpu_seconds(api.pid)
            started = time.monotonic()
            pool = [threading.Thread(target=pay_loop, args=(port, orders, lock, started + seconds, results))
                    for _ in range(clients)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            elapsed = time.monotonic() - started
            api_cpu = tree_cpu_seconds(api.pid) - cpu_before
        finally:
            api.send_signal(signal.SIGTERM)
            api.wait(timeout=20)
    finally:
        database.drop_database(base, name)
    paid = [ms for status, ms in results if status == 200]
    return {
        "clients": clients, "workers": workers, "threads": threads, "seconds": round(elapsed, 1),
        "payments": len(paid), "errors": len(results) - len(paid),
        "payments_per_s": round(len(paid) / elapsed, 1), "latency_ms": percentiles([ms for _, ms in results]),
        "api_cpu_ms_per_payment": round(api_cpu * 1000 / max(len(paid), 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--orders", type=int, default=20000)
    args = parser.parse_args()
    print(json.dumps(run(args.seconds, args.clients, args.workers, args.threads, args.orders), indent=2))


if __name__ == "__main__":
    main()
