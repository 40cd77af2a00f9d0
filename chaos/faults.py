"""Fault injectors: each runs in its own thread during the load and notes what it did and when.

Processes of the run are killed by their own pid (Pipeline.kill). Infrastructure is stopped and
started only through `stack/native.sh stop|start <name>` (harness/stack.py), which honours STACK_DIR
and the STACK_* ports of the environment, so the same code drives the default stack, CI's or a private one.
"""
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from harness.latency_proxy import ProxyProcess
from harness.pipeline import Pipeline
from harness.stack import stack


@dataclass
class FaultContext:
    pipeline: Pipeline
    proxy: ProxyProcess | None
    started: float  # time.monotonic() at the start of the load
    stop: threading.Event
    timeline: list = field(default_factory=list)

    def note(self, event: str) -> None:
        self.timeline.append({"t_s": round(time.monotonic() - self.started, 2), "event": event})

    def wait(self, seconds: float) -> bool:
        """Wait, unless the run is being stopped; True if the full time passed."""
        return not self.stop.wait(seconds)


Fault = Callable[[FaultContext, float], None]  # (context, planned fault duration in seconds)


def nothing(ctx: FaultContext, _duration_s: float) -> None:
    ctx.note("no fault")


def sigkill(prefix: str, restart_after_s: float) -> Fault:
    def inject(ctx: FaultContext, _duration_s: float) -> None:
        name = ctx.pipeline.named(prefix)[0]
        ctx.pipeline.kill(name)
        ctx.note(f"SIGKILL {name}")
        ctx.wait(restart_after_s)
        ctx.pipeline.restart(name)
        ctx.note(f"{name} restarted by the supervisor")

    return inject


def outage(component: str) -> Fault:
    def inject(ctx: FaultContext, duration_s: float) -> None:
        ctx.note(f"stopping {component}")
        try:
            stack("stop", component)
            ctx.note(f"{component} stopped")
            ctx.wait(duration_s)
        finally:  # whatever happened, the component is running again afterwards
            ctx.note(f"starting {component}")
            stack("start", component)
            ctx.note(f"{component} healthy again")

    return inject


def redis_out_of_memory() -> Fault:
    """Redis refuses every write with OOM: `maxmemory` below what it already uses, policy `noeviction`
    (so nothing is evicted), then the original settings again. Reads still work."""
    def inject(ctx: FaultContext, duration_s: float) -> None:
        import redis

        client = redis.Redis.from_url(ctx.pipeline.env["REDIS_URL"])
        saved = {name: client.config_get(name)[name] for name in ("maxmemory", "maxmemory-policy")}
        try:
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", "1")
            ctx.note("redis maxmemory 1 byte, noeviction: every write refused with OOM")
            ctx.wait(duration_s)
        finally:  # whatever happened, Redis takes writes again afterwards
            for name, value in saved.items():
                client.config_set(name, value)
            ctx.note(f"redis memory settings restored ({saved['maxmemory']}, {saved['maxmemory-policy']})")
            client.close()

    return inject


def restart(component: str) -> Fault:
    """An outage of no planned length: stopped, then started at once."""
    stop_and_start = outage(component)
    return lambda ctx, _duration_s: stop_and_start(ctx, 0.0)


def random_kills(period_s: tuple[float, float], down_s: tuple[float, float], seed: int = 7) -> Fault:
    def inject(ctx: FaultContext, duration_s: float) -> None:
        rng = random.Random(seed)
        # relays and workers take turns, so both kinds are killed however the dice fall; which
        # instance, when, and for how long stay random
        kinds = itertools.cycle([ctx.pipeline.named("relay-"), ctx.pipeline.named("worker-")])
        until = time.monotonic() + duration_s
        while time.monotonic() < until and ctx.wait(rng.uniform(*period_s)):
            name = rng.choice(next(kinds))
            ctx.pipeline.kill(name)
            ctx.note(f"SIGKILL {name}")
            ctx.wait(rng.uniform(*down_s))
            ctx.pipeline.restart(name)
            ctx.note(f"{name} restarted")
        for name in ctx.pipeline.dead():
            ctx.pipeline.restart(name)

    return inject


def slow_kafka(delay_ms: float) -> Fault:
    def inject(ctx: FaultContext, duration_s: float) -> None:
        ctx.proxy.set_delay(delay_ms)
        ctx.note(f"Kafka proxy: +{delay_ms:g} ms each way")
        ctx.wait(duration_s)
        ctx.proxy.set_delay(0)
        ctx.note("Kafka proxy: no added latency")

    return inject
