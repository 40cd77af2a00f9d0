"""What tracing costs a payment: the closed-loop payment benchmark with traces off and on, rounds alternating.

    python -m bench.tracing_cost [--seconds 10] [--rounds 3]

"on" is the SDK with the OTLP/HTTP exporter (default batch settings) sending to a real receiver in
this process (harness/otlp.py); "off" is the default: no OTEL_TRACES_EXPORTER. Reports payments/s,
p50/p99 and the API's CPU per payment (gunicorn master and workers, from /proc) for each, and
their ratios. What "off" adds to a payment at all (the trace headers of the outbox row and the log
processor's look-up of the current span) is timed apart, in microseconds per payment.
"""
import argparse
import json
import timeit

from opentelemetry import propagate

from bench import api_payments
from common import tracing
from common.log import add_trace_ids
from harness.otlp import OtlpReceiver
from harness.services import free_port
from harness.stats import median_spread

KEYS = ("payments_per_s", "p50_ms", "p99_ms", "api_cpu_ms_per_payment")


def off_path_microseconds() -> float:
    """Per payment with traces off: the outbox row's trace headers from the request's, and one log line's look-up."""
    incoming = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    count = 20_000

    def one_payment():
        tracing.headers_of(propagate.extract(incoming))
        add_trace_ids(None, "info", {"event": "request"})

    return timeit.timeit(one_payment, number=count) / count * 1e6


def one_round(traced: bool, seconds: float, receiver: OtlpReceiver) -> dict:
    env = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint} if traced else {}
    before = receiver.count()
    result = api_payments.run(seconds, clients=16, workers=2, threads=4, orders_count=int(seconds * 600), extra_env=env)
    return {
        "payments_per_s": result["payments_per_s"], "p50_ms": result["latency_ms"]["p50"],
        "p99_ms": result["latency_ms"]["p99"], "api_cpu_ms_per_payment": result["api_cpu_ms_per_payment"],
        "errors": result["errors"], "spans_per_payment": round((receiver.count() - before) / max(result["payments"], 1), 2),
    }


def run(seconds: float = 10.0, rounds: int = 3) -> dict:
    receiver = OtlpReceiver(free_port(), keep=False).start()
    runs = {"off": [], "on": []}
    try:
        for _ in range(rounds):
            for mode in ("off", "on"):
                runs[mode].append(one_round(mode == "on", seconds, receiver))
    finally:
        receiver.stop()
    summary = {mode: {key: median_spread(runs[mode], key) for key in KEYS} for mode in runs}
    ratios = {key: round(summary["on"][key]["median"] / summary["off"][key]["median"], 3) for key in KEYS}
    extra_cpu = summary["on"]["api_cpu_ms_per_payment"]["median"] - summary["off"]["api_cpu_ms_per_payment"]["median"]
    return {
        "summary": summary, "on_to_off": ratios, "runs": runs,
        "traced_extra_cpu_ms_per_payment": round(extra_cpu, 3),
        "off_path_us_per_payment": round(off_path_microseconds(), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.seconds, args.rounds), indent=2))


if __name__ == "__main__":
    main()
