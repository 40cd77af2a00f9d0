"""A partition revoked in a rebalance leaves with its finished offsets committed.

Two real consumers in one group on the real broker, wired as the worker wires them (make_consumer,
RebalanceListener, CommitTracker), with the periodic commit held back so that, when the second
member joins, the first has finished records whose offsets are not committed yet.
"""
from kafka import TopicPartition

from harness.waiting import wait_for
from platform_worker.commits import CommitTracker
from platform_worker.config import WorkerSettings
from platform_worker.consume import make_consumer, next_offsets
from platform_worker.metrics import WorkerMetrics
from platform_worker.rebalance import RebalanceListener
from tests.integration.worker.support import order_ids


def member(settings: WorkerSettings):
    listener = RebalanceListener(WorkerMetrics())
    consumer = make_consumer(settings, listener)
    listener.commits = CommitTracker(consumer, interval_s=3600)  # no periodic commit after the first
    return consumer, listener.commits


def test_revoked_partitions_are_committed_where_the_worker_finished(worker_env, producer, test_env, monkeypatch):
    for name, value in worker_env.items():
        monkeypatch.setenv(name, value)
    settings = WorkerSettings()
    partitions = [TopicPartition(settings.topic, p) for p in range(6)]
    first, first_commits = member(settings)
    second = make_consumer(settings)
    second.unsubscribe()  # joins only when the first member holds uncommitted finished work
    finished: dict[TopicPartition, object] = {}

    def consumed(total: int):
        def condition() -> bool:
            batch = first.poll(timeout_ms=200)
            if batch:
                offsets = next_offsets(batch)
                finished.update(offsets)
                first_commits.finished(offsets)  # the first call commits; later ones wait out the interval
            return sum(offset.offset for offset in finished.values()) >= total  # offsets start at 0
        return condition

    try:
        producer.orders(order_ids(test_env, 60))
        wait_for(consumed(60), timeout=30, what="the first member finished 60 records")
        wait_for(lambda: any(first.committed(tp) for tp in partitions), timeout=10, what="the first commit")
        producer.orders(order_ids(test_env, 60))
        wait_for(consumed(120), timeout=30, what="the first member finished 120 records")
        assert any((first.committed(tp) or 0) < finished[tp].offset for tp in finished), \
            "the test needs finished offsets that are not committed yet"

        second.subscribe([settings.topic])
        redone = []

        def rebalanced() -> bool:
            first.poll(timeout_ms=100)
            redone.extend(record for records in second.poll(timeout_ms=100).values() for record in records)
            return len(first.assignment()) == 3 and len(second.assignment()) == 3

        wait_for(rebalanced, timeout=60, what="each member owns three partitions")
        for tp in second.assignment():
            assert second.committed(tp) == finished[tp].offset, f"{tp} committed where the first member finished"
        assert redone == [], "the second member redid none of the first member's finished records"
    finally:
        first.close(autocommit=False)
        second.close(autocommit=False)
