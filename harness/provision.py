"""A run of its own on a shared stack: a fresh database migrated to head, fresh topics, a group id.

Identity columns start at a random offset (as the tests do), so the Redis keys of two runs never
meet. `drop` removes the database and the topics again.
"""
import os
import secrets
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from common import defaults
from common.kafka_admin import delete_topics, ensure_topics
from harness import database

ADMIN_TOKEN = "chaos-admin-token"


@dataclass(frozen=True)
class Infrastructure:
    database_url: str
    brokers: str
    redis_url: str

    @classmethod
    def from_environment(cls) -> "Infrastructure":
        return cls(
            os.environ.get("DATABASE_URL", defaults.DATABASE_URL),
            os.environ.get("KAFKA_BROKERS", defaults.KAFKA_BROKERS),
            os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        )


@dataclass
class Provisioned:
    label: str
    run_id: str
    database_url: str
    topic: str
    dlq_topic: str
    id_offset: int

    def service_env(self, infra: Infrastructure, brokers: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url, "KAFKA_BROKERS": brokers, "REDIS_URL": infra.redis_url,
            "ADMIN_TOKEN": ADMIN_TOKEN, "ENVIRONMENT": "test", "API_ORDER_PROCESSED_TOPIC": self.topic,
            "WORKER_TOPIC": self.topic, "WORKER_DLQ_TOPIC": self.dlq_topic,
            "WORKER_GROUP_ID": f"{self.label}-{self.run_id}-external-platform-redis-group",
        }


def provision(infra: Infrastructure, label: str, revision: str = "head", outbox_layout: str | None = None) -> Provisioned:
    """`revision`: the Alembic revision to migrate to; `outbox_layout`: plain or partitioned (migration 0005)."""
    run_id = secrets.token_hex(4)
    name = f"outbox_{label}_{run_id}"
    url = make_url(infra.database_url).set(database=name).render_as_string(hide_password=False)
    database.create_database(infra.database_url, name)
    from alembic import command

    command.upgrade(database.alembic_config(url, outbox_layout), revision)
    id_offset = (int(run_id, 16) % 900_000 + 100_000) * 1_000_000
    database.restart_identities(url, id_offset)
    topic, dlq = f"{label}-{run_id}.order.processed", f"{label}-{run_id}.order.processed.dlq"
    ensure_topics(infra.brokers, [(topic, 6), (dlq, 6)])
    return Provisioned(label, run_id, url, topic, dlq, id_offset)


def drop(infra: Infrastructure, run: Provisioned) -> None:
    database.drop_database(infra.database_url, make_url(run.database_url).database)
    delete_topics(infra.brokers, run.topic)  # and run.dlq_topic, which starts with it
