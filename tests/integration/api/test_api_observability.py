"""Request ids, JSON logs and Prometheus metrics of the real `order-api` (gunicorn, 4 workers)."""
import json
import os
import re
import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from harness.services import LOG_DIR
from harness.waiting import wait_for
from tests.integration.api.builders import Api
from tests.integration.api.concurrent import at_once


def metric(text: str, name: str, **labels) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def scrape(http, api_url) -> str:
    response = http.get(f"{api_url}/metrics")
    assert response.status_code == 200
    return response.text


def test_a_request_id_from_the_client_is_echoed(http, api_url):
    response = http.get(f"{api_url}/healthz", headers={"X-Request-ID": "trace-abc-123"})
    assert response.headers["X-Request-ID"] == "trace-abc-123"


def test_a_request_without_an_id_gets_a_fresh_one(http, api_url):
    ids = {http.get(f"{api_url}/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_an_insane_request_id_is_replaced(http, api_url):
    response = http.get(f"{api_url}/healthz", headers={"X-Request-ID": "x" * 500})
    assert response.headers["X-Request-ID"] != "x" * 500


def test_each_request_is_logged_as_json_with_its_request_id(http, api_url):
    request_id = f"log-{uuid.uuid4().hex}"
    http.get(f"{api_url}/api/users/1/balance", headers={"X-Request-ID": request_id})
    log = LOG_DIR / f"order-api-{os.getpid()}.log"

    def logged():
        for line in log.read_text().splitlines():
            if request_id in line:
                return json.loads(line)
        return None

    entry = wait_for(logged, timeout=10, what="the request's log line")
    assert entry["request_id"] == request_id and entry["event"] == "request" and entry["level"] == "info"
    assert entry["path"] == "/api/users/1/balance" and entry["status"] in (200, 404)


def test_request_counts_add_up_across_all_workers(http, api_url):
    api = Api(http, api_url)
    user_id = api.user()
    endpoint = "/api/users/{userId}/balance"
    before = metric(scrape(http, api_url), "api_http_requests_total", endpoint=endpoint, status="200")
    outcomes = at_once([lambda: http.get(f"{api_url}/api/users/{user_id}/balance") for _ in range(40)])
    assert all(outcome.status == 200 for outcome in outcomes)
    after = scrape(http, api_url)
    assert metric(after, "api_http_requests_total", endpoint=endpoint, status="200") - before == 40
    assert metric(after, "api_http_request_duration_seconds_count", endpoint=endpoint, status="200") >= 40


def test_payments_are_counted_by_result(http, api_url):
    api = Api(http, api_url)
    before = scrape(http, api_url)
    user_id = api.user(balance=1000)
    order_id = api.order(user_id, api.option(price=1000))["orderId"]
    assert api.pay(order_id, user_id).status_code == 200
    assert api.pay(order_id, user_id).status_code == 409
    after = scrape(http, api_url)
    for result in ("PAID", "ALREADY_PAID"):
        assert metric(after, "api_payments_total", result=result) - metric(before, "api_payments_total", result=result) == 1


def test_gunicorn_answers_a_chunked_body_over_the_limit_with_413(api_url):
    def chunks():
        yield b"{"
        for _ in range(70):
            yield b" " * 1024
        yield b"}"

    response = requests.post(f"{api_url}/api/users", data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_the_413_for_a_chunked_body_carries_the_request_id(api_url):
    def oversized():
        yield b"{" + b" " * 70 * 1024 + b"}"

    headers = {"Content-Type": "application/json"}
    echoed = requests.post(f"{api_url}/api/users", data=oversized(), headers={**headers, "X-Request-ID": "trace-413"})
    fresh = requests.post(f"{api_url}/api/users", data=oversized(), headers={**headers, "X-Request-ID": "x" * 500})
    assert echoed.status_code == fresh.status_code == 413
    assert echoed.headers["X-Request-ID"] == "trace-413"
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])


def test_gunicorn_accepts_a_small_chunked_body(api_url):
    response = requests.post(f"{api_url}/api/users", data=iter([b"{", b"}"]), headers={"Content-Type": "application/json"})
    assert response.status_code == 201


def test_gunicorn_answers_malformed_json_with_the_error_envelope(api_url):
    response = requests.post(f"{api_url}/api/orders", data=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_gunicorn_logs_its_own_lines_as_json_too(api_url):
    log = LOG_DIR / f"order-api-{os.getpid()}.log"
    booted = [line for line in log.read_text().splitlines() if "Booting worker" in line]
    assert booted and all(json.loads(line)["logger"] == "gunicorn.error" for line in booted)
