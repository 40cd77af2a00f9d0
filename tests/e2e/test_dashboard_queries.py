"""Every PromQL expression of the Grafana dashboard answers, with data, from a real Prometheus that
scrapes the three running services while payments flow."""
import json
import threading
from pathlib import Path

import pytest

from harness.shop import Shop
from harness.waiting import wait_for
from tests.support.prometheus import Prometheus

DASHBOARDS = Path(__file__).resolve().parents[2] / "ops" / "grafana" / "dashboards"


def dashboard_expressions() -> list[str]:
    expressions = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            expressions += [target["expr"] for target in panel.get("targets", [])]
    return expressions


@pytest.fixture(scope="module")
def prometheus(pipeline):
    server = Prometheus(pipeline["metrics"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def payments(pipeline):
    """Payments made one after another until the module's tests are done."""
    shop = Shop(pipeline["api"], pipeline["admin_token"])
    user_id = shop.user_with_balance(10_000_000)
    option_id = shop.product(price=1_000, stock=10_000)["options"][0]["productOptionId"]
    done = threading.Event()

    def pay_until_done():
        while not done.wait(0.05):
            order = shop.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 1}]}, 201)
            shop.post(f"/api/orders/{order['orderId']}/payment", {"userId": user_id}, 200)

    payer = threading.Thread(target=pay_until_done, daemon=True)
    payer.start()
    yield
    done.set()
    payer.join(timeout=15)


def test_the_dashboard_has_expressions_to_check():
    assert len(dashboard_expressions()) >= 7


@pytest.mark.parametrize("expr", dashboard_expressions())
def test_each_dashboard_expression_returns_data_while_payments_flow(prometheus, payments, expr):
    def numbers():
        result = prometheus.query(expr)
        return result if result and all(sample["value"][1] != "NaN" for sample in result) else None

    assert wait_for(numbers, timeout=60, interval=0.5, what=f"numbers for {expr}")


def test_no_alert_fires_on_a_healthy_pipeline(prometheus, payments):
    wait_for(lambda: prometheus.query('up{job="platform-worker"} == 1'), timeout=30, what="worker scraped")
    assert prometheus.query('ALERTS{alertstate="firing"}') == []
