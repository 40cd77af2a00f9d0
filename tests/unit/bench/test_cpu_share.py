from bench import cpu_share, soak


def _reading(at: float, per_pid: dict, per_process: dict, postmaster: float, exited: float, waits=None) -> dict:
    return {"at": at, "per_pid": per_pid, "per_process": per_process, "postmaster": postmaster, "exited": exited,
            "waits": waits or {}}


def test_cpu_is_attributed_to_the_sessions_group_and_a_session_first_seen_counts_from_then():
    last = _reading(0, {11: ("postgres: order_api", 5.0), 12: ("postgres: outbox_relay", 1.0)}, {"kafka": 10.0}, 2.0, 7.0)
    now = _reading(2, {11: ("postgres: order_api", 5.5), 12: ("postgres: outbox_relay", 2.5),
                       13: ("postgres: autovacuum", 0.4)}, {"kafka": 10.25, "redis": 3.0}, 2.1, 7.5)
    spent = cpu_share._spent(last, now)
    assert spent["postgres: order_api"] == 0.5 and spent["postgres: outbox_relay"] == 1.5
    assert "postgres: autovacuum" not in spent  # new since the last sample: its past is not this interval's
    assert spent["kafka"] == 0.25 and "redis" not in spent
    assert round(spent["postgres: background"], 6) == 0.1 and spent["postgres: ended sessions"] == 0.5


def test_the_share_of_a_window_is_cores_over_its_wall_time_and_its_samples_only():
    samples = [{"at": 101.0, "cpu": {"postgres: outbox_relay": 1.5}, "waits": {"CPU": 2}},
               {"at": 103.0, "cpu": {"postgres: outbox_relay": 0.5, "kafka": 0.2}, "waits": {"Lock/transactionid": 1}},
               {"at": 105.0, "cpu": {"kafka": 9.0}, "waits": {}}]
    assert cpu_share.share(samples, 100.0, 104.0) == {"cores": {"postgres: outbox_relay": 0.5, "kafka": 0.05},
                                                       "api_waits": {"CPU": 2, "Lock/transactionid": 1}}
    assert cpu_share.share(samples, 200.0, 300.0) == {"cores": {}, "api_waits": {}}


def test_the_soak_report_lists_the_groups_that_used_most_per_window():
    windows = [{"window": 1, "cpu": {"cores": {"kafka": 0.2, "postgres: order_api": 0.5}, "api_waits": {"CPU": 4}}},
               {"window": 2, "cpu": {"cores": {"postgres: outbox_relay": 0.9}, "api_waits": {}}}]
    lines = soak._cpu_table(windows, top=2)
    assert "| window | postgres: outbox_relay | postgres: order_api | all | API sessions waiting on |" in lines
    assert "| 1 | 0.00 | 0.50 | 0.70 | CPU 4 |" in lines and "| 2 | 0.90 | 0.00 | 0.90 | - |" in lines
    assert soak._cpu_table([{"window": 1}]) == []
