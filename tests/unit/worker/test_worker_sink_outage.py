"""The wait through a sink outage, on plain values: `finish` stands for the processor's write."""
import threading

import pytest
from kafka import OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from platform_worker.config import WorkerSettings
from platform_worker.decode import OrderRecord
from platform_worker.errors import ShutdownRequested, SinkDown
from platform_worker.metrics import WorkerMetrics
from platform_worker.pauses import SINK_DOWN, Pauses
from platform_worker.process import PreparedBatch
from platform_worker.sink_outage import SinkOutage

P0, P1 = TopicPartition("t", 0), TopicPartition("t", 1)


def record(tp: TopicPartition, offset: int) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, -1, offset, 0, 0, b"k", b"v", [], None, 1, 1, -1)


def batch() -> PreparedBatch:
    records = [record(P0, 10), record(P0, 11), record(P1, 20)]
    return PreparedBatch([(r, OrderRecord(r.offset, b"v", None)) for r in records], [],
                         {P0: OffsetAndMetadata(12, "", -1), P1: OffsetAndMetadata(21, "", -1)})


class Redis:
    """Down for the first `down_for` writes; records what each write was asked to store."""

    def __init__(self, down_for: int, on_write=lambda: None):
        self.down_for, self.on_write, self.writes = down_for, on_write, []

    def finish(self, prepared: PreparedBatch) -> PreparedBatch:
        self.writes.append(sorted(r.offset for r, _ in prepared.decoded))
        self.on_write()
        if len(self.writes) <= self.down_for:
            raise SinkDown("ConnectionError: Connection refused")
        return prepared


def outage(redis: Redis, stopping=None):
    metrics = WorkerMetrics()
    pauses = Pauses({SINK_DOWN: metrics.sink_down})
    settings = WorkerSettings(backoff_base_seconds=0.001, backoff_max_seconds=0.002)
    return SinkOutage(redis.finish, pauses, metrics, settings, stopping or threading.Event()), pauses, metrics


def test_a_healthy_write_goes_straight_through_without_a_pause():
    redis = Redis(down_for=0)
    sink, pauses, metrics = outage(redis)
    assert sink.finish(batch()).offsets.keys() == {P0, P1}
    assert (len(redis.writes), pauses.held, metrics.sink_down_seconds._value.get()) == (1, False, 0)


def test_the_held_batch_is_written_again_until_redis_takes_it_with_the_pause_held_meanwhile():
    paused_during = []
    redis = Redis(down_for=4, on_write=lambda: paused_during.append(pauses.held))
    sink, pauses, metrics = outage(redis)
    finished = sink.finish(batch())
    assert redis.writes == [[10, 11, 20]] * 5
    assert paused_during == [False, True, True, True, True]
    assert not pauses.held and metrics.sink_down._value.get() == 0
    assert finished.offsets.keys() == {P0, P1}
    assert metrics.sink_down_seconds._value.get() > 0


def test_partitions_revoked_during_the_outage_leave_the_held_batch_and_its_offsets():
    redis = Redis(down_for=2, on_write=lambda: len(redis.writes) == 2 and sink.forget([P0]))
    sink, _, _ = outage(redis)
    finished = sink.finish(batch())
    assert redis.writes == [[10, 11, 20], [10, 11, 20], [20]]
    assert finished.offsets.keys() == {P1}


def test_a_stop_during_the_outage_ends_the_wait_and_finishes_nothing():
    stopping = threading.Event()
    redis = Redis(down_for=10**6, on_write=lambda: len(redis.writes) == 3 and stopping.set())
    sink, pauses, _ = outage(redis, stopping)
    with pytest.raises(ShutdownRequested):
        sink.finish(batch())
    assert len(redis.writes) == 3 and not pauses.held
