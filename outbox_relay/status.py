"""`outbox-relay status`: what is pending, how old the oldest is, and the last error, per topic."""
from dataclasses import dataclass

from sqlalchemy import Connection, text

_PER_TOPIC = text(
    "SELECT topic, count(*), extract(epoch FROM now() - min(created_at)),"
    " (array_agg(last_error ORDER BY r.next_attempt_at DESC NULLS LAST)"
    "   FILTER (WHERE last_error IS NOT NULL))[1]"
    " FROM outbox LEFT JOIN outbox_retry r ON r.outbox_id = outbox.id"
    " WHERE published_at IS NULL GROUP BY topic ORDER BY topic"
)


@dataclass(frozen=True)
class TopicStatus:
    topic: str
    pending: int
    oldest_pending_age_seconds: float
    last_error: str | None


def topic_statuses(conn: Connection) -> list[TopicStatus]:
    return [TopicStatus(topic, pending, max(float(age), 0.0), error) for topic, pending, age, error in conn.execute(_PER_TOPIC)]


def totals(statuses: list[TopicStatus]) -> tuple[int, float]:
    """Rows pending over all topics, and the age of the oldest (0 if none)."""
    pending = sum(status.pending for status in statuses)
    return pending, max((status.oldest_pending_age_seconds for status in statuses), default=0.0)


def render(statuses: list[TopicStatus]) -> str:
    pending, oldest = totals(statuses)
    lines = [f"pending: {pending}", f"oldest pending age: {oldest:.1f} s"]
    for status in statuses:
        lines.append(
            f"topic {status.topic}: pending {status.pending}, "
            f"oldest {status.oldest_pending_age_seconds:.1f} s, last error: {status.last_error or '-'}"
        )
    return "\n".join(lines)
