"""The Debezium comparison's connector settings (bench/cdc.py): the outbox's columns, and a queue
Debezium accepts (its validation refuses max.queue.size <= max.batch.size)."""
from pathlib import Path

from bench.cdc import Debezium


def _read(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_connector_maps_the_outbox_columns_and_keeps_a_valid_queue(tmp_path):
    debezium = Debezium("postgresql+psycopg2://outbox:secret@127.0.0.1:5432/bench_db", "127.0.0.1:9092",
                        tmp_path, tmp_path / "debezium.log")
    tmp_path.mkdir(exist_ok=True)
    connector = _read(debezium._connector())
    assert connector["database.dbname"] == "bench_db"
    assert connector["database.password"] == "secret"
    assert connector["table.include.list"] == "public.outbox"
    assert connector["transforms.outbox.table.field.event.key"] == "aggregateid"
    assert connector["transforms.outbox.table.field.event.id"] == "event_id"
    assert connector["transforms.outbox.route.by.field"] == "topic"
    assert int(connector["max.queue.size"]) > int(connector["max.batch.size"])
    assert connector["slot.name"] == connector["publication.name"] == debezium.name
    worker = _read(debezium._worker())
    assert worker["listeners"] == f"http://127.0.0.1:{debezium.port}"
    assert worker["bootstrap.servers"] == "127.0.0.1:9092"
