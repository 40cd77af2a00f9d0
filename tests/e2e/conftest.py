"""The three services running as real processes against this run's database, topics and Redis,
exporting their traces over OTLP to a receiver of the test run's own."""
import pytest

from harness.otlp import OtlpReceiver
from harness.services import ServiceProcess, free_port


@pytest.fixture(scope="package")
def otlp_receiver():
    receiver = OtlpReceiver(free_port()).start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="package")
def pipeline(service_env, otlp_receiver):
    api_port, relay_port, worker_port = free_port(), free_port(), free_port()
    env = {
        **service_env,
        "API_PORT": str(api_port),
        "API_WORKERS": "2",
        "RELAY_METRICS_PORT": str(relay_port),
        "WORKER_METRICS_PORT": str(worker_port),
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    services = {
        "order-api": ServiceProcess("order-api", env, f"http://127.0.0.1:{api_port}/readyz"),
        "outbox-relay": ServiceProcess("outbox-relay", env, f"http://127.0.0.1:{relay_port}/metrics"),
        "platform-worker": ServiceProcess("platform-worker", env, f"http://127.0.0.1:{worker_port}/metrics"),
    }
    started = []
    try:
        for service in services.values():
            started.append(service.start())
        yield {
            "api": f"http://127.0.0.1:{api_port}",
            "admin_token": env["ADMIN_TOKEN"],
            "metrics": {
                "order-api": f"127.0.0.1:{api_port}",
                "outbox-relay": f"127.0.0.1:{relay_port}",
                "platform-worker": f"127.0.0.1:{worker_port}",
            },
            "logs": {name: service.log_path for name, service in services.items()},
        }
    finally:
        for service in reversed(started):
            service.stop()
