from bench import outbox_stats, soak


def _window(n: int, total_mb: int, p99: float, probes: list | None = None) -> dict:
    return {"window": n, "seconds": 300.0, "offered_per_s": 300.0, "achieved_per_s": 299.0, "payments": 90_000,
            "errors": {}, "payment_p99_ms": 20.0, "total_bytes": total_mb * 1_000_000, "heap_bytes": total_mb * 700_000,
            "index_bytes": total_mb * 300_000, "rows": 90_000, "pending_rows": 3, "live_tuples": 90_000,
            "dead_tuples": 5_000, "autovacuums": 2, "autoanalyzes": 2, "claim_ms_median": 1.5, "claim_ms_max": 3.0,
            "probes": probes or [], "long_transaction_open_s": 0.0, "load_average": [2.0, 2.0, 2.0],
            "e2e_p50_ms": 10.0, "e2e_p99_ms": p99, "e2e_max_ms": 2 * p99, "not_in_redis": 0}


def test_the_size_is_compared_with_the_first_window_after_the_retention_period():
    plan = soak.Plan(minutes=20, window_minutes=5, retention_minutes=5)
    windows = [_window(1, 50, 40.0), _window(2, 100, 44.0), _window(3, 120, 50.0), _window(4, 110, 48.0)]
    result = soak.summarise(plan, windows, {"rows": 90_000, "total_bytes": 110_000_000}, 360_000, None, {})
    assert result["targets"] == {"size_last_to_first_after_retention": 1.1, "size_reference_window": 2,
                                 "p99_last_to_first": 1.2}
    assert result["deleted_by_retention"] == 270_000
    assert "| 4 | 300 | 299.0 | 10.0 / 48.0 | 20.0 | 110 (77 / 33) |" in "\n".join(soak.markdown(result))


def test_the_probes_around_the_long_transaction_are_listed_from_its_start():
    plan = soak.Plan(minutes=10, window_minutes=5)
    probe = {"at": 1060.0, "claim_ms": 80.0, "explain_ms": 79.0, "dead_tuples": 18_000, "buffers": "Buffers: shared hit=900"}
    windows = [_window(1, 50, 40.0), _window(2, 60, 44.0, [probe])]
    result = soak.summarise(plan, windows, {"rows": 90_000, "total_bytes": 60_000_000}, 180_000,
                            {"window": 2, "began": 1000.0, "ended": 1300.0, "minutes": 5}, {})
    lines = soak.markdown({**result, "windows": [windows[0], _window(2, 60, 44.0, [{**probe, "plan": ["Limit", "Execution Time: 79 ms"]}])]})
    assert "| +1.0 | 80.0 | 79.0 | 18,000 | Buffers: shared hit=900 |" in lines
    assert "Execution Time: 79 ms" in lines


def test_autovacuum_short_names_become_the_storage_parameters():
    assert outbox_stats.autovacuum_options("scale_factor=0, threshold=10000,cost_delay=0,analyze_scale_factor=0.02") == {
        "autovacuum_vacuum_scale_factor": 0.0, "autovacuum_vacuum_threshold": 10000.0,
        "autovacuum_vacuum_cost_delay": 0.0, "autovacuum_analyze_scale_factor": 0.02}
    assert outbox_stats.autovacuum_options("") == {}
