"""The three services running as real processes against this run's database, topics and Redis."""
import pytest

from tests.support.services import ServiceProcess, free_port


@pytest.fixture(scope="package")
def pipeline(service_env):
    api_port, relay_port, worker_port = free_port(), free_port(), free_port()
    env = {
        **service_env,
        "API_PORT": str(api_port),
        "API_WORKERS": "2",
        "RELAY_METRICS_PORT": str(relay_port),
        "WORKER_METRICS_PORT": str(worker_port),
    }
    services = [
        ServiceProcess("order-api", env, f"http://127.0.0.1:{api_port}/readyz"),
        ServiceProcess("outbox-relay", env, f"http://127.0.0.1:{relay_port}/metrics"),
        ServiceProcess("platform-worker", env, f"http://127.0.0.1:{worker_port}/metrics"),
    ]
    started = []
    try:
        for service in services:
            started.append(service.start())
        yield {
            "api": f"http://127.0.0.1:{api_port}",
            "admin_token": env["ADMIN_TOKEN"],
            "metrics": {
                "order-api": f"127.0.0.1:{api_port}",
                "outbox-relay": f"127.0.0.1:{relay_port}",
                "platform-worker": f"127.0.0.1:{worker_port}",
            },
        }
    finally:
        for service in reversed(started):
            service.stop()
