"""Where the test run's real components are, and the names that keep two runs apart."""
import os
import secrets
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

from common import defaults


@dataclass(frozen=True)
class TestEnvironment:
    run_id: str = field(default_factory=lambda: os.environ.get("TEST_RUN_ID") or secrets.token_hex(4))
    base_database_url: str = os.environ.get("DATABASE_URL", defaults.DATABASE_URL)
    kafka_brokers: str = os.environ.get("KAFKA_BROKERS", defaults.KAFKA_BROKERS)
    redis_url: str = os.environ.get("REDIS_URL", defaults.REDIS_URL)

    @property
    def database_name(self) -> str:
        return f"outbox_test_{self.run_id}"

    @property
    def database_url(self) -> str:
        return make_url(self.base_database_url).set(database=self.database_name).render_as_string(
            hide_password=False
        )

    @property
    def topic(self) -> str:
        return f"test-{self.run_id}.order.processed"

    @property
    def dlq_topic(self) -> str:
        return f"test-{self.run_id}.order.processed.dlq"

    @property
    def group_id(self) -> str:
        return f"test-{self.run_id}-external-platform-redis-group"

    @property
    def id_offset(self) -> int:
        """Identity columns of this run's database start here, so Redis keys of two runs never meet."""
        return (int(self.run_id, 16) % 900_000 + 100_000) * 1_000_000
