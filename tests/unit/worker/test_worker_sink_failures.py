import pytest
import redis

from platform_worker.errors import RecordRefused, SinkDown
from platform_worker.sink_failures import classify_reply, sink_down_from

SINK_DOWN_REPLIES = [
    "LOADING Redis is loading the dataset in memory",
    "READONLY You can't write against a read only replica.",
    "OOM command not allowed when used memory > 'maxmemory'.",
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
    "NOREPLICAS Not enough good replicas to write.",
    "BUSY Redis is busy running a script.",
    "NOAUTH Authentication required.",
    "NOPERM this user has no permissions to run the 'set' command",  # the ACL refuses the command: every write
]
RECORD_REPLIES = [
    "NOPERM this user has no permissions to access one of the keys used as arguments",  # Redis 7: this key only
    "WRONGTYPE Operation against a key holding the wrong kind of value",
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
    "SOMETHINGNEW an error this code has never heard of",
]


@pytest.mark.parametrize("reply", SINK_DOWN_REPLIES)
def test_an_error_redis_gives_every_write_means_the_sink_is_down(reply):
    verdict = classify_reply(Exception(reply))
    assert isinstance(verdict, SinkDown) and str(verdict) == reply


@pytest.mark.parametrize("reply", RECORD_REPLIES)
def test_any_other_error_reply_is_the_records_own_failure(reply):
    assert isinstance(classify_reply(Exception(reply)), RecordRefused)


@pytest.mark.parametrize("error", [
    redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    redis.TimeoutError("Timeout reading from socket"),
    ConnectionResetError(104, "Connection reset by peer"),
])
def test_a_failure_of_the_client_itself_means_the_sink_is_down(error):
    verdict = sink_down_from(error)
    assert isinstance(verdict, SinkDown) and type(error).__name__ in str(verdict)
