"""Redis writes: `SET data:order:processed:{orderId} <value bytes unchanged> EX <ttl>`, one pipeline per batch.

Idempotent: writing a record again leaves the same value. Every reply is read: the records Redis refused
on their own are returned; a failure that means Redis is down raises SinkDown (sink_failures.py decides).
"""
import hiredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from platform_worker.decode import OrderRecord
from platform_worker.errors import RecordRefused
from platform_worker.sink_failures import classify_reply, sink_down_from

KEY_PREFIX = "data:order:processed:"
_KEY_PREFIX_BYTES = KEY_PREFIX.encode()
_KEY_PREFIX_LENGTH = len(_KEY_PREFIX_BYTES)
_OK = b"+OK\r\n"
READ_CHUNK = 1 << 16


def redis_key(order_id: int) -> str:
    return f"{KEY_PREFIX}{order_id}"


def connect(url: str, timeout_s: float) -> redis.Redis:
    """A client with no retries of its own: tenacity decides every retry (retry.py, sink_outage.py)."""
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
    the worker. Error replies are collected, so a record refused on its own leaves the others stored.
    """

    def __init__(self, client: redis.Redis, ttl_s: int):
        self.pool = client.connection_pool
        self._tail = _bulk(b"EX") + _bulk(str(ttl_s).encode())
        self._buffer = bytearray(READ_CHUNK)

    def store(self, orders: list[OrderRecord]) -> list[tuple[int, RecordRefused]]:
        """Write every order; returns those Redis refused on their own (index in `orders`, reason), normally
        none. Raises SinkDown when Redis cannot be reached or refuses writes as such; some may be stored then."""
        if not orders:
            return []
        connection = None
        try:
            connection = self.pool.get_connection()
            connection.send_packed_command([self._pack(orders)], check_health=False)
            errors = self._read_replies(connection._sock, len(orders))
        except (redis.RedisError, hiredis.HiredisError, OSError) as error:
            if connection is not None:
                connection.disconnect()  # replies may be left unread: never reuse this socket
            raise sink_down_from(error) from error
        finally:
            if connection is not None:
                self.pool.release(connection)
        return _refused(errors) if errors else []

    def _pack(self, orders: list[OrderRecord]) -> bytes:
        tail = self._tail
        return b"".join([_set_command(order.order_id, order.value, tail) for order in orders])

    def _read_replies(self, sock, expected: int) -> list[tuple[int, hiredis.ReplyError]]:
        """Every reply of a SET that succeeded is `+OK`: the usual answer, `expected` of them, is
        recognised as a whole; anything else is parsed reply by reply. Returns the error replies."""
        received = bytearray()
        wanted = len(_OK) * expected
        while len(received) < wanted and not received.startswith(b"-"):
            chunk = sock.recv(max(wanted - len(received), READ_CHUNK))
            if not chunk:
                raise redis.ConnectionError("Redis closed the connection")
            received += chunk
        if len(received) == wanted and received == _OK * expected:
            return []
        return self._parse_replies(sock, expected, received)

    def _parse_replies(self, sock, expected: int, received: bytearray) -> list[tuple[int, hiredis.ReplyError]]:
        reader, buffer, replies, errors = hiredis.Reader(), self._buffer, 0, []
        reader.feed(received)
        while replies < expected:
            reply = reader.gets()
            if reply is False:
                count = sock.recv_into(buffer)
                if not count:
                    raise redis.ConnectionError("Redis closed the connection")
                reader.feed(buffer, 0, count)
                continue
            if isinstance(reply, hiredis.ReplyError):
                errors.append((replies, reply))
            replies += 1
        return errors


def _refused(errors: list[tuple[int, hiredis.ReplyError]]) -> list[tuple[int, RecordRefused]]:
    """The records refused on their own; raises SinkDown if any reply says Redis refuses writes as such."""
    verdicts = [(index, classify_reply(reply)) for index, reply in errors]
    for _, verdict in verdicts:
        if not isinstance(verdict, RecordRefused):
            raise verdict
    return verdicts
