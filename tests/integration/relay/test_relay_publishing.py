import json
from datetime import datetime, timezone

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from sqlalchemy import func, update

from common.kafka_connection import parse_brokers
from common.outbox import outbox
from harness.waiting import wait_for
from outbox_relay.bootstrap import build_relay
from outbox_relay.claim import PLAIN, claim_batch
from outbox_relay.mark import mark_unanswered
from tests.integration.relay.outbox_rows import payload, retry_time, rows, write_backlog, write_event, write_events
from tests.support.kafka import consume as read_topic
from tests.support.kafka import header


@pytest.fixture
def relay(relay_settings):
    relay = build_relay(relay_settings)
    yield relay
    relay.close()


def test_publishes_pending_rows_keyed_by_aggregateid_with_the_contract_headers_and_marks_them(
    relay, relay_engine, relay_topic, test_env
):
    with relay_engine.begin() as conn:
        event_id = write_event(conn, relay_topic, 101, headers={"traceparent": "00-abc-def-01"})
    stored = rows(relay_engine)[0]

    assert relay.drain() == 1

    [record] = read_topic(test_env.kafka_brokers, relay_topic, expected=1)
    assert record.key == b"101"
    assert json.loads(record.value) == stored.payload
    assert [name for name, _ in record.headers] == ["event_id", "event_type", "content-type", "traceparent"]
    assert header(record, "event_id") == str(event_id)
    assert header(record, "event_type") == "order.processed"
    assert header(record, "content-type") == "application/json"
    assert header(record, "traceparent") == "00-abc-def-01"
    assert rows(relay_engine)[0].published_at is not None


def test_claims_only_the_oldest_pending_row_of_each_key_and_skips_rows_locked_by_another_relay(
    relay_engine, relay_topic
):
    write_events(relay_engine, relay_topic, [1, 1, 2, 3, 3])
    first_id = rows(relay_engine)[0].id
    with relay_engine.connect() as one, relay_engine.connect() as two:
        with one.begin(), two.begin():
            claimed_by_one = [row.id - first_id for row in claim_batch(one, 2)]
            claimed_by_two = [row.id - first_id for row in claim_batch(two, 10)]
    assert claimed_by_one == [0, 2]
    assert claimed_by_two == [3]


def test_a_claims_mark_is_seen_by_nobody_before_its_commit_and_is_gone_if_the_relay_dies(relay_engine, relay_topic):
    write_events(relay_engine, relay_topic, [1, 2])
    with relay_engine.connect() as claiming, claiming.begin():
        claimed = claim_batch(claiming, 10)
        assert len(claimed) == 2
        assert [row.published_at for row in rows(relay_engine)] == [None, None], "seen before the commit"
        claiming.rollback()  # what PostgreSQL does for a relay that died holding the batch
    assert [(row.published_at, row.attempts) for row in rows(relay_engine)] == [(None, 0), (None, 0)]


def test_rows_left_unanswered_are_pending_again_after_the_commit(relay_engine, relay_topic):
    write_events(relay_engine, relay_topic, [1, 2, 3])
    with relay_engine.connect() as claiming, claiming.begin():
        claimed = claim_batch(claiming, 10)
        mark_unanswered(claiming, [claimed[0].id, claimed[2].id])
    first, second, third = rows(relay_engine)
    assert (first.published_at, first.attempts, first.last_error) == (None, 0, None)
    assert second.published_at is not None
    assert (third.published_at, third.attempts, third.last_error) == (None, 0, None)


def test_a_lower_id_committed_after_higher_ids_were_published_is_still_published(relay, relay_engine, relay_topic, test_env):
    with relay_engine.connect() as slow_payment:
        with slow_payment.begin():
            late_event = write_event(slow_payment, relay_topic, 1)
            write_events(relay_engine, relay_topic, [2, 3])
            assert relay.drain() == 2
        assert relay.drain() == 1

    records = read_topic(test_env.kafka_brokers, relay_topic, expected=3)
    assert {header(record, "event_id") for record in records if record.key == b"1"} == {str(late_event)}
    lowest = rows(relay_engine)[0]
    assert str(lowest.event_id) == str(late_event) and lowest.published_at is not None


def _topic_refusing_records_over(brokers: str, topic: str, max_bytes: int) -> KafkaAdminClient:
    admin = KafkaAdminClient(bootstrap_servers=parse_brokers(brokers))
    admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": str(max_bytes)})])
    admin.wait_for_topics([topic], timeout_ms=30000)
    return admin


def test_a_refused_record_stays_pending_with_attempts_and_error_and_is_retried_while_other_keys_flow(
    relay, relay_engine, test_env, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.relay-refusing-{datetime.now().strftime('%H%M%S%f')}"
    admin = _topic_refusing_records_over(test_env.kafka_brokers, topic, 2000)
    huge = payload(1) | {"items": [{"productOptionId": 1, "productName": "x" * 5000, "quantity": 1, "price": 1}]}
    with relay_engine.begin() as conn:
        write_event(conn, topic, 1, body=huge)
        write_event(conn, topic, 2)
        write_event(conn, topic, 1)
        write_event(conn, topic, 3)

    assert relay.drain() == 3
    refused, other_key, later_of_refused_key, third_key = rows(relay_engine)
    assert refused.published_at is None and refused.attempts == 1
    assert "MessageSizeTooLarge" in refused.last_error
    assert retry_time(relay_engine, refused.id) > datetime.now(timezone.utc)
    assert other_key.published_at is not None and third_key.published_at is not None
    assert later_of_refused_key.published_at is None and later_of_refused_key.attempts == 0
    assert relay.drain() == 0, "the refused row waits for its backoff and its key waits with it"

    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": "1048576"})])
    admin.close()
    wait_for(lambda: relay.drain() == 1, timeout=30, interval=0.1, what="the refused row retried and published")
    wait_for(lambda: relay.drain() == 1, timeout=10, interval=0.1, what="the next row of its key published")
    records = read_topic(test_env.kafka_brokers, topic, expected=4)
    key_one = [header(record, "event_id") for record in records if record.key == b"1"]
    assert key_one == [str(refused.event_id), str(later_of_refused_key.event_id)]
    assert all(row.published_at is not None for row in rows(relay_engine))


def test_nothing_is_claimed_from_an_empty_outbox(relay):
    assert relay.drain() == 0


def test_claiming_reads_only_pending_rows_through_the_partial_index_however_long_the_history(relay_engine, relay_topic):
    write_backlog(relay_engine, relay_topic, 30_000, keys=30_000)
    with relay_engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id < rows(relay_engine)[-10].id).values(published_at=func.now()))
    with relay_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE outbox")
    with relay_engine.connect() as conn, conn.begin():
        plan = "\n".join(
            line for (line,) in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + PLAIN.sql, {"batch_limit": 500, "after_id": 0})
        )
    assert "Index Scan using ix_outbox_pending on outbox" in plan, plan
    assert "rows=10 loops=1" in plan, plan


def test_the_per_key_probe_stays_on_its_index_when_the_statistics_saw_no_pending_row(relay_engine, relay_topic):
    # the steady state: everything published when autovacuum analyzes; then a backlog arrives
    insert = ("INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, published_at)"
              " SELECT gen_random_uuid(), 'order', %(key)s || g, 'order.processed', %(topic)s, '{}', %(published)s"
              " FROM generate_series(1, %(rows)s) AS g")
    with relay_engine.begin() as conn:
        conn.exec_driver_sql(insert, {"key": "history-", "topic": relay_topic, "rows": 100_000, "published": datetime.now(timezone.utc)})
    with relay_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE outbox")
    with relay_engine.begin() as conn:
        conn.exec_driver_sql(insert, {"key": "backlog-", "topic": relay_topic, "rows": 1_500, "published": None})
    with relay_engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")  # as the relay's sessions
        conn.exec_driver_sql(PLAIN.prepare_sql)
        plan = "\n".join(line for (line,) in conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE {PLAIN.name} (0, 2000)"))
        conn.exec_driver_sql(f"DEALLOCATE {PLAIN.name}")
    probe = [line for line in plan.splitlines() if " on outbox older " in line]
    # on ix_outbox_pending each of the 1,500 probes walked the older pending rows: 450 ms, not 35
    assert len(probe) == 1 and "using ix_outbox_pending_key on outbox older" in probe[0], plan
    assert "rows=1500 loops=1" in plan, plan
