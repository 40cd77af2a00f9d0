from bench import scale


def _size(rows: int, drains: list[int], p99: float) -> dict:
    e2e = [{"from_commit_p50": 10.0, "from_commit_p99": p99, "p50": 20.0, "p99": 2 * p99}]
    return {"history_rows": rows, "drain_rows_per_s": drains, "control_rows_per_s": drains, "drain_to_control": 1.0,
            "claim": {"claim_ms": 40.0, "explain_execution_ms": 41.0, "plan": ["Sort", "Execution Time: 41 ms"]},
            "retention_rows_per_s": 100_000, "e2e": e2e, "table": {"total_bytes": 600_000_000 * max(rows, 1) // 1_000_000},
            "load_average_after": [1.0, 1.0, 1.0]}


def test_ratios_are_to_the_first_size_and_the_latency_is_taken_from_the_commit():
    result = scale.summarise([_size(0, [20_000, 18_000, 22_000], 50.0), _size(5_000_000, [18_000], 60.0)], 100_000, 300.0, 10.0)
    empty, full = result["table"]
    assert (empty["drain_ratio"], full["drain_ratio"]) == (1.0, 0.9)
    assert full["e2e_p99_ms"] == 60.0 and full["e2e_p99_ratio"] == 1.2
    assert full["mb_per_million_rows"] == 600


def test_the_report_keeps_the_last_sizes_claim_plan():
    result = scale.summarise([_size(0, [20_000], 50.0), _size(2_000_000, [19_000], 55.0)], 100_000, 300.0, 10.0)
    assert "Execution Time: 41 ms" in "\n".join(scale.markdown({**result, "long_transaction": []}))


def test_the_report_of_two_layouts_is_written_with_both(tmp_path, monkeypatch):
    monkeypatch.setattr(scale, "RESULTS", tmp_path)
    by_layout = {name: {**scale.summarise([_size(0, [20_000], 50.0), _size(2_000_000, [19_000], 55.0)], 100_000, 300.0, 10.0),
                        "long_transaction": []}
                 for name in ("plain", "partitioned")}
    described = {"cpus": 2, "cpu_model": "x", "memory_gb": 24, "python": "3.11", "postgres": "15.10",
                 "postgres_settings": {"shared_buffers": "1GB"}, "redis": "7", "kafka": "3.9", "libraries": {}}
    scale.write_report("20990101T000000Z", by_layout, described)
    report = (tmp_path / "scale-20990101T000000Z.md").read_text()
    assert "PostgreSQL 15.10 (shared_buffers 1GB)" in report
    assert "## plain (OUTBOX_LAYOUT=plain)" in report and "## partitioned (OUTBOX_LAYOUT=partitioned)" in report
    assert (tmp_path / "scale-20990101T000000Z.json").exists()


def test_the_claims_buffer_and_wal_totals_are_its_top_nodes():
    from bench import history
    plan = ["Sort  (cost=1..2 rows=10 width=212) (actual time=66.0..66.1 rows=2000 loops=1)",
            "  Buffers: shared hit=52686 read=29 dirtied=1316 written=140",
            "  WAL: records=8000 fpi=1200 bytes=10400000",
            "  CTE claimed", "    ->  Limit", "          Buffers: shared hit=10096", "          WAL: records=10 bytes=600"]
    assert history.plan_totals(plan) == {"buffers": {"hit": 52686, "read": 29, "dirtied": 1316, "written": 140},
                                         "wal": {"records": 8000, "fpi": 1200, "bytes": 10400000}}
    assert history.plan_totals(["Result"]) == {"buffers": {}, "wal": {}}
    sizes = [_size(0, [20_000], 50.0), _size(20_000_000, [19_000], 55.0)]
    sizes[1]["claim"]["totals"] = history.plan_totals(plan)
    lines = scale.markdown({**scale.summarise(sizes, 100_000, 300.0, 10.0), "long_transaction": []})
    assert "| 20,000,000 | 52,686 | 29 | 1,316 | 140 | 8,000 | 1,200 | 10.4 |" in lines
