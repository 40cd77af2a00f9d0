"""Redis writes: `SET data:order:processed:{orderId} <value bytes unchanged> EX <ttl>`, one pipeline per batch.

Idempotent: writing a record again leaves the same value. Any Redis failure surfaces as TransientError,
because a SET of a valid record can only fail for reasons that may pass.
"""
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from platform_worker.decode import OrderRecord
from platform_worker.errors import TransientError

KEY_PREFIX = "data:order:processed:"


def redis_key(order_id: int) -> str:
    return f"{KEY_PREFIX}{order_id}"


def connect(url: str, timeout_s: float) -> redis.Redis:
    """A client with no retries of its own: tenacity (retry.py) is the one retry policy."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


class OrderStore:
    def __init__(self, client: redis.Redis, ttl_s: int):
        self.client = client
        self.ttl_s = ttl_s

    def store(self, orders: list[OrderRecord]) -> None:
        if not orders:
            return
        pipe = self.client.pipeline(transaction=False)
        for order in orders:
            pipe.set(KEY_PREFIX + str(order.order_id), order.value, ex=self.ttl_s)
        try:
            pipe.execute()
        except redis.RedisError as error:
            raise TransientError(f"{type(error).__name__}: {error}") from error
        finally:
            pipe.reset()
