"""Redis writes: `SET data:order:processed:{orderId} <value bytes unchanged> EX <ttl>`, one pipeline per batch.

Idempotent: writing a record again leaves the same value. Any Redis failure surfaces as TransientError,
because a SET of a valid record can only fail for reasons that may pass.
"""
import hiredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from platform_worker.decode import OrderRecord
from platform_worker.errors import TransientError

KEY_PREFIX = "data:order:processed:"
_KEY_PREFIX_BYTES = KEY_PREFIX.encode()
_KEY_PREFIX_LENGTH = len(_KEY_PREFIX_BYTES)
_OK = b"+OK\r\n"
READ_CHUNK = 1 << 16


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


def _bulk(argument: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(argument), argument)


def _set_command(order_id: int, value: bytes, tail: bytes) -> bytes:
    """`SET data:order:processed:{order_id} value EX ttl` in RESP (the tail is `EX ttl`, packed once),
    in one formatting step: hiredis.pack_command writes the same bytes, at twice the cost per record."""
    digits = b"%d" % order_id
    return b"*5\r\n$3\r\nSET\r\n$%d\r\n%s%s\r\n$%d\r\n%s\r\n%s" % (
        _KEY_PREFIX_LENGTH + len(digits), _KEY_PREFIX_BYTES, digits, len(value), value, tail
    )


class OrderStore:
    """Writes a batch as one pipeline: all SETs go out in one write, then all replies are read at once.

    redis-py connects (AUTH, SELECT, TLS as the URL says); the commands are packed here and the replies
    parsed by a hiredis reader fed straight from the connection's socket, because redis-py's
    `Pipeline`, and even one `read_response` per reply, cost more per record than all the rest of
    the worker. Any reply that is an error fails the whole batch, which is then retried as a whole.
    """

    def __init__(self, client: redis.Redis, ttl_s: int):
        self.pool = client.connection_pool
        self._tail = _bulk(b"EX") + _bulk(str(ttl_s).encode())
        self._buffer = bytearray(READ_CHUNK)

    def store(self, orders: list[OrderRecord]) -> None:
        if not orders:
            return
        connection = None
        try:
            connection = self.pool.get_connection()
            connection.send_packed_command([self._pack(orders)], check_health=False)
            self._read_replies(connection._sock, len(orders))
        except (redis.RedisError, hiredis.HiredisError, OSError) as error:
            if connection is not None:
                connection.disconnect()  # replies may be left unread: never reuse this socket
            raise TransientError(f"{type(error).__name__}: {error}") from error
        finally:
            if connection is not None:
                self.pool.release(connection)

    def _pack(self, orders: list[OrderRecord]) -> bytes:
        tail = self._tail
        return b"".join([_set_command(order.order_id, order.value, tail) for order in orders])

    def _read_replies(self, sock, expected: int) -> None:
        """Every reply of a SET that succeeded is `+OK`: the usual answer, `expected` of them, is
        recognised as a whole; anything else is parsed reply by reply (the first error fails the batch)."""
        received = bytearray()
        wanted = len(_OK) * expected
        while len(received) < wanted and not received.startswith(b"-"):
            chunk = sock.recv(max(wanted - len(received), READ_CHUNK))
            if not chunk:
                raise redis.ConnectionError("Redis closed the connection")
            received += chunk
        if len(received) == wanted and received == _OK * expected:
            return
        self._parse_replies(sock, expected, received)

    def _parse_replies(self, sock, expected: int, received: bytearray) -> None:
        reader, buffer, replies = hiredis.Reader(), self._buffer, 0
        reader.feed(received)
        while replies < expected:
            reply = reader.gets()
            if reply is False:
                count = sock.recv_into(buffer)
                if not count:
                    raise redis.ConnectionError("Redis closed the connection")
                reader.feed(buffer, 0, count)
            elif isinstance(reply, hiredis.ReplyError):
                raise redis.ResponseError(str(reply))
            else:
                replies += 1

