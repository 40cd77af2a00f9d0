"""Which Redis failures mean the sink is down, and which mean one record was refused: decided here, by
type, and nowhere else.

The sink is down when the client cannot talk to Redis at all (connection refused or reset, timeouts, a
broken reply stream: every exception of the client) or when Redis answers with an error it gives every
write while it lasts (`LOADING`, `READONLY`, `OOM`, `MASTERDOWN`, ... below). Waiting is the only cure for
those, so the batch is held and nothing is dead-lettered (sink_outage.py). Any other error reply is
about the one command it answers (an ACL refusing that key, a value over Redis' size limit): that
record is retried on its own and dead-lettered once its attempts run out, while the others are stored.
"""
from platform_worker.errors import RecordRefused, SinkDown

# Error codes (the reply's first word) that Redis gives every write while the condition lasts.
SINK_DOWN_CODES = frozenset({
    "LOADING",      # loading its dataset after a restart
    "READONLY",     # a replica, e.g. right after a failover
    "OOM",          # at maxmemory with the noeviction policy
    "MASTERDOWN",   # a replica that lost its master (replica-serve-stale-data no)
    "MISCONF",      # snapshots failing, writes stopped (stop-writes-on-bgsave-error)
    "NOREPLICAS",   # fewer replicas than min-replicas-to-write
    "BUSY",         # a script or function running too long
    "TRYAGAIN",     # cluster: keys moving
    "CLUSTERDOWN",  # cluster: slots not served
    "NOAUTH",       # authentication required: every command refused
    "WRONGPASS",    # the credentials were refused
})
# An ACL can refuse a whole command (every write) or one key (that record only); only the message says which.
_COMMAND_REFUSED = "permissions to run"


def sink_down_from(error: BaseException) -> SinkDown:
    """Any failure of the client itself (it raised instead of giving a reply): Redis is not reachable."""
    return SinkDown(f"{type(error).__name__}: {error}")


def classify_reply(reply: Exception) -> SinkDown | RecordRefused:
    """An error reply to one SET: the sink's state or that record's failure."""
    message = str(reply)
    code = message.split(" ", 1)[0]
    if code in SINK_DOWN_CODES or (code == "NOPERM" and _COMMAND_REFUSED in message):
        return SinkDown(message)
    return RecordRefused(message)
