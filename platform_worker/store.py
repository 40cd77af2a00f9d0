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
    """Writes a batch as one pipeline: all SETs go out in one write, then every reply is read.

    This is redis-py's own non-transactional pipeline, done through the public Connection API
    (pack_commands / send_packed_command / read_response): the per-command bookkeeping of
    `Pipeline` cost more than the whole rest of the worker per record.
    """

    def __init__(self, client: redis.Redis, ttl_s: int):
        self.pool = client.connection_pool
        self.ttl = str(ttl_s).encode()

    def store(self, orders: list[OrderRecord]) -> None:
        if not orders:
            return
        commands = [(b"SET", KEY_PREFIX + str(order.order_id), order.value, b"EX", self.ttl) for order in orders]
        connection = None
        try:
            connection = self.pool.get_connection()
            connection.send_packed_command(connection.pack_commands(commands))
            for _ in commands:
                connection.read_response()
        except (redis.RedisError, OSError) as error:
            if connection is not None:
                connection.disconnect()  # replies may be left unread: never reuse this socket
            raise TransientError(f"{type(error).__name__}: {error}") from error
        finally:
            if connection is not None:
                self.pool.release(connection)
