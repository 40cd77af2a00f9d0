"""A flood of poison stops the worker instead of dead-lettering the topic; nothing is lost."""
from harness.waiting import wait_for
from tests.integration.worker.support import dead_lettered, header

GUARD = {"WORKER_FLOOD_GUARD_SHARE": "0.5", "WORKER_FLOOD_GUARD_MIN_RECORDS": "10", "WORKER_MAX_POLL_RECORDS": "5"}


def test_a_flood_of_poison_stops_consumption_and_reports_not_ready_leaving_the_records_in_kafka(
    start_worker, producer, test_env, worker_env
):
    worker = start_worker(**GUARD)
    for n in range(40):
        producer.send(f"bad-{n}".encode(), b"not json")
    producer.flush()
    wait_for(lambda: worker.ready() == 503, timeout=30, what="the worker reports not ready")
    assert worker.metric("worker_flood_guard_tripped") == 1
    assert worker.alive()
    assert worker.metric("worker_records_total", result="dead_lettered") < 40
    worker.process.stop()

    # after the fix (here: a guard that lets everything through), every record is still there
    start_worker(WORKER_FLOOD_GUARD_SHARE="1")
    records = dead_lettered(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"], expected=40)
    origins = {(header(r, "dlq.original.partition"), header(r, "dlq.original.offset")) for r in records}
    assert len(origins) == 40
