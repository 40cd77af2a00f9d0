"""One chaos scenario, start to finish, on the stack given by the environment.

A scenario gets a database of its own (migrated to head, identities offset far from any other run),
its own topics and consumer group, and its own service processes. The load runs in the calling
thread; the fault in another, starting `warmup_s` into the load. After the load, the checker waits
(up to `deliver_timeout_s`) until every PAID order is in Redis or dead-lettered, then joins all
sources into the scenario's result. The database and topics are dropped unless something was lost.
"""
import os
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from chaos import check, load
from chaos.faults import FaultContext
from chaos.latency_proxy import ProxyProcess
from chaos.scenarios import Scenario
from chaos.services import Pipeline, free_port
from chaos.shop import Shop
from chaos.stats import summarise_load
from common.kafka_admin import ensure_topics
from tests.support import database

ADMIN_TOKEN = "chaos-admin-token"


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


@dataclass(frozen=True)
class Infrastructure:
    database_url: str
    brokers: str
    redis_url: str

    @classmethod
    def from_environment(cls) -> "Infrastructure":
        return cls(
            os.environ.get("DATABASE_URL", "postgresql+psycopg2://outbox:outbox@127.0.0.1:5432/outbox"),
            os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092"),
            os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        )


@dataclass
class Provisioned:
    run_id: str
    database_url: str
    topic: str
    dlq_topic: str

    def service_env(self, infra: Infrastructure, brokers: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url, "KAFKA_BROKERS": brokers, "REDIS_URL": infra.redis_url,
            "ADMIN_TOKEN": ADMIN_TOKEN, "ENVIRONMENT": "test", "API_ORDER_PROCESSED_TOPIC": self.topic,
            "WORKER_TOPIC": self.topic, "WORKER_DLQ_TOPIC": self.dlq_topic,
            "WORKER_GROUP_ID": f"chaos-{self.run_id}-external-platform-redis-group",
        }


def provision(infra: Infrastructure, scenario: str) -> Provisioned:
    run_id = secrets.token_hex(4)
    name = f"outbox_chaos_{scenario}_{run_id}"
    url = make_url(infra.database_url).set(database=name).render_as_string(hide_password=False)
    database.create_database(infra.database_url, name)
    from alembic import command

    command.upgrade(database.alembic_config(url), "head")
    database.restart_identities(url, (int(run_id, 16) % 900_000 + 100_000) * 1_000_000)
    topic, dlq = f"chaos-{run_id}.order.processed", f"chaos-{run_id}.order.processed.dlq"
    ensure_topics(infra.brokers, [(topic, 6), (dlq, 6)])
    return Provisioned(run_id, url, topic, dlq)


def drop(infra: Infrastructure, run: Provisioned) -> None:
    from kafka import KafkaAdminClient

    database.drop_database(infra.database_url, make_url(run.database_url).database)
    admin = KafkaAdminClient(bootstrap_servers=infra.brokers.split(","))
    try:
        admin.delete_topics([run.topic, run.dlq_topic])
    finally:
        admin.close()


def run_scenario(scenario: Scenario, plan: LoadPlan = LoadPlan(), infra: Infrastructure | None = None) -> dict:
    infra = infra or Infrastructure.from_environment()
    scenario = scenario.scaled(plan.fault_scale)
    run = provision(infra, scenario.name)
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
    shop = Shop(pipeline.api_url, ADMIN_TOKEN)
    customers = load.Customers(shop.setup_users(plan.users, 10**12), shop.setup_options(4, 10**8))
    fault_window = max(scenario.fault_s, 5.0)
    duration = plan.warmup_s + fault_window + plan.after_s
    stop = threading.Event()
    ctx = None

    def fault_thread(started: float) -> None:
        nonlocal ctx
        ctx = FaultContext(pipeline, proxy, started, stop)
        if ctx.wait(plan.warmup_s):
            ctx.note("fault begins")
            scenario.fault(ctx, scenario.fault_s)
            ctx.note("fault ends")

    started = time.monotonic()
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
    accepted = {o.detail["order_id"] for o in outcomes if o.status == 200}
    verdict = check.verdict(run.database_url, infra.brokers, run.topic, run.dlq_topic, infra.redis_url, accepted)
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
        "relays": scenario.relays,
        "workers": scenario.workers,
    }
