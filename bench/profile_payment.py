"""Where a payment request spends its time: pyinstrument over N payments in one process.

The API's own Flask app (create_app, the real blueprints, the real database) serves N payments
through Flask's test client, one after another, under pyinstrument; no HTTP server or network
in between, so the profile shows the request's own work: routing, validation, the ORM, SQL, commit.
"""
from pathlib import Path

from pyinstrument import Profiler

from bench.dataset import payable_orders
from harness.provision import ADMIN_TOKEN, Infrastructure, drop, provision


def run(payments: int = 500, out_dir: Path | None = None, infra: Infrastructure | None = None) -> dict:
    infra = infra or Infrastructure.from_environment()
    run_ = provision(infra, "bench_profile")
    try:
        from order_api.config import Settings
        from order_api.entrypoints.app import create_app

        orders = payable_orders(run_.database_url, payments + 20)
        settings = Settings(database_url=run_.database_url, admin_token=ADMIN_TOKEN, environment="test",
                            order_processed_topic=run_.topic, sweeper_enabled=False, log_level="WARNING")
        client = create_app(settings).test_client()
        for order_id, user_id in orders[:20]:  # warm the pool and the caches outside the profile
            client.post(f"/api/orders/{order_id}/payment", json={"userId": user_id})
        profiler = Profiler(interval=0.0005)
        profiler.start()
        statuses = [client.post(f"/api/orders/{o}/payment", json={"userId": u}).status_code for o, u in orders[20:]]
        profiler.stop()
    finally:
        drop(infra, run_)
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    result = {"payments": payments, "paid": statuses.count(200), "seconds": round(profiler.last_session.duration, 3),
              "ms_per_payment": round(profiler.last_session.duration * 1000 / payments, 2), "text": text}
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "payment-profile.html").write_text(profiler.output_html())
        (out_dir / "payment-profile.txt").write_text(text)
        result["html"] = str(out_dir / "payment-profile.html")
    return result
