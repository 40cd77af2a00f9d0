"""The worker's lag in seconds: the age of the oldest record polled and not yet finished (no I/O)."""
from collections import namedtuple

from kafka import OffsetAndMetadata, TopicPartition

from platform_worker.unstored_ages import UnstoredAges

Record = namedtuple("Record", "offset timestamp")
P0, P1 = TopicPartition("t", 0), TopicPartition("t", 1)


def batch(tp, first_offset, first_timestamp, count=3):
    return {tp: [Record(first_offset + i, first_timestamp + i) for i in range(count)]}


def done(tp, next_offset):
    return {tp: OffsetAndMetadata(next_offset, "", -1)}


def test_a_polled_record_ages_until_its_batch_is_finished():
    ages = UnstoredAges()
    ages.polled(batch(P0, 10, 1_000))
    assert ages.ages(5_000, {P0, P1}) == {P0: 4.0, P1: 0.0}
    ages.finished(done(P0, 13))
    assert ages.ages(5_000, {P0}) == {P0: 0.0}


def test_the_next_batch_keeps_its_own_age_when_the_previous_one_finishes():
    ages = UnstoredAges()
    ages.polled(batch(P0, 10, 1_000))
    ages.polled(batch(P0, 13, 2_000))
    assert ages.ages(6_000, {P0}) == {P0: 5.0}
    ages.finished(done(P0, 13))
    assert ages.ages(6_000, {P0}) == {P0: 4.0}


def test_a_rewound_batch_polled_again_keeps_its_first_age():
    ages = UnstoredAges()
    ages.polled(batch(P0, 10, 1_000))
    ages.polled(batch(P0, 10, 1_000))
    ages.polled({P0: []})
    assert ages.ages(31_000, {P0}) == {P0: 30.0}


def test_a_partition_no_longer_owned_is_forgotten():
    ages = UnstoredAges()
    ages.polled(batch(P1, 0, 1_000))
    assert ages.ages(2_000, {P0}) == {P0: 0.0}
    assert ages.ages(2_000, {P0, P1}) == {P0: 0.0, P1: 0.0}


def test_a_clock_behind_the_broker_gives_zero_not_a_negative_age():
    ages = UnstoredAges()
    ages.polled(batch(P0, 0, 9_000))
    assert ages.ages(8_000, {P0}) == {P0: 0.0}
