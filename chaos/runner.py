"""One chaos scenario, start to finish, on the stack given by the environment.

A scenario gets a database of its own (migrated to head, identities offset far from any other run),
its own topics and consumer group, and its own service processes. The load runs in the calling
thread; the fault in another, starting `warmup_s` into the load. After the load, the checker waits
(up to `deliver_timeout_s`) until every PAID order is in Redis or dead-lettered, then joins all
sources into the scenario's result. The database and topics are dropped unless something was lost.
"""
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from chaos import check, load
from chaos.backlog import BacklogSampler
from chaos.faults import FaultContext
from chaos.scenarios import Scenario
from chaos.stats import summarise_load
from harness.latency_proxy import ProxyProcess
from harness.pipeline import Pipeline
from harness.provision import ADMIN_TOKEN, Infrastructure, drop, provision
from harness.services import free_port
from harness.shop import Shop


@dataclass(frozen=True)
class LoadPlan:
    rate: float = 100.0
    warmup_s: float = 10.0
    after_s: float = 20.0
    threads: int = 16
    users: int = 50
    deliver_timeout_s: float = 90.0
    fault_scale: float = 1.0  # shortens outages and slow periods for quick runs


QUICK = LoadPlan(rate=20.0, warmup_s=3.0, after_s=5.0, threads=8, users=10, deliver_timeout_s=60.0, fault_scale=0.3)


def run_scenario(scenario: Scenario, plan: LoadPlan = LoadPlan(), infra: Infrastructure | None = None) -> dict:
    infra = infra or Infrastructure.from_environment()
    scenario = scenario.scaled(plan.fault_scale)
    run = provision(infra, f"chaos_{scenario.name}")
    proxy = None
    if scenario.via_proxy:
        proxy = ProxyProcess(free_port(), urlsplit(f"//{infra.brokers.split(',')[0]}").port).start()
    pipeline = Pipeline(run.service_env(infra, proxy.brokers if proxy else infra.brokers),
                        relays=scenario.relays, workers=scenario.workers, log_prefix=f"{scenario.name}-{run.run_id}")
    try:
        pipeline.start()
        result = _load_and_fault(scenario, plan, pipeline, proxy, infra, run)
    finally:
        pipeline.stop()
        if proxy:
            proxy.stop()
    if result["lost"] == 0:
        drop(infra, run)
    else:
        result["kept_database"] = run.database_url
    return result


def _load_and_fault(scenario, plan, pipeline, proxy, infra, run) -> dict:
    shop = Shop(pipeline.api_url, ADMIN_TOKEN, session=requests.Session())
    customers = load.Customers(shop.setup_users(plan.users, 10**12), shop.setup_options(4, 10**8))
    fault_window = max(scenario.fault_s, 5.0)
    duration = plan.warmup_s + fault_window + plan.after_s
    stop = threading.Event()
    ctx = None
    fault_errors: list[str] = []

    def fault_thread(started: float) -> None:
        nonlocal ctx
        ctx = FaultContext(pipeline, proxy, started, stop)
        if ctx.wait(plan.warmup_s):
            ctx.note("fault begins")
            try:
                scenario.fault(ctx, scenario.fault_s)
            except Exception as error:  # reported in the result; the checker still runs
                ctx.note(f"fault error: {error!r}")
                fault_errors.append(repr(error))
            ctx.note("fault ends")

    started = time.monotonic()
    backlog = BacklogSampler(run.database_url, started)
    backlog.start()
    injector = threading.Thread(target=fault_thread, args=(started,), daemon=True)
    injector.start()
    outcomes = load.drive(pipeline.api_port, customers, rate=plan.rate, duration_s=duration, threads=plan.threads)
    load_ended = time.monotonic() - started
    injector.join(timeout=300)
    stop.set()
    for name in pipeline.dead():  # a fault still restarting something when the load ended
        pipeline.restart(name)
    fault_end = max((e["t_s"] for e in ctx.timeline if e["event"] == "fault ends"), default=load_ended)
    waited = check.wait_until_delivered(run.database_url, infra.brokers, run.dlq_topic, infra.redis_url, plan.deliver_timeout_s)
    backlog.stop()
    accepted = {o.detail["order_id"] for o in outcomes if o.status == 200}
    verdict = check.verdict(run.database_url, infra.brokers, run.topic, run.dlq_topic, infra.redis_url, accepted,
                            run.id_offset)
    fault_start = next((e["t_s"] for e in ctx.timeline if e["event"] == "fault begins"), None)
    return {
        "name": scenario.name,
        "description": scenario.description,
        "rate_per_s": plan.rate,
        "load_s": round(load_ended, 1),
        "fault_window_s": [fault_start, fault_end],
        "timeline": ctx.timeline,
        **summarise_load(outcomes, (fault_start, fault_end)),
        **verdict.as_dict(),
        "all_delivered_s_after_fault_end": None if waited is None else round(load_ended + waited - fault_end, 1),
        # publishing kept pace again (backlog below one second of payments) this long after the fault began
        "publish_recovered_s_after_fault_start": backlog.recovered_s_after(fault_start, int(plan.rate)),
        "backlog_peak_rows": backlog.peak_after(fault_start),
        "all_delivered_s_after_load_end": None if waited is None else round(waited, 1),
        "fault_errors": fault_errors,
        "relays": scenario.relays,
        "workers": scenario.workers,
    }
