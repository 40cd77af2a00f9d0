"""chaos/results/<scenario>.json per scenario, and SUMMARY.md over every result present; a `--quick`
run writes into chaos/results/quick/ (not committed), so it never overwrites a full run's results."""
import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_RESULTS = RESULTS / "quick"
HEADLINE = ["name", "accepted", "success_rate", "lost", "duplicates", "in_redis", "dead_lettered",
            "api_p99_ms", "api_p99_during_fault_ms", "all_delivered_s_after_load_end"]
COLUMNS = ["name", "load_s", "payment_attempts", "accepted", "refused_by_code", "orders_refused_by_code", "outbox_rows",
           "outbox_published", "in_redis", "dead_lettered", "lost", "duplicates", "api_p99_ms",
           "api_p99_during_fault_ms", "p99_vs_baseline", "publish_recovered_s_after_fault_start",
           "all_delivered_s_after_load_end"]


def baseline_of(name: str) -> str:
    """The cluster scenarios compare with the cluster's baseline, the others with the single node's."""
    return "cluster_baseline" if name.startswith("cluster_") else "baseline"


REDIS_OUTAGES = ("redis_outage", "redis_oom")  # waited out by the worker: nothing may be dead-lettered


def write_result(result: dict, directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamped = {**result, "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": machine()}
    path = directory / f"{result['name']}.json"
    path.write_text(json.dumps(stamped, indent=2, default=str))
    return path


def machine() -> dict:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "memory_gb": round(memory_gb, 1), "python": platform.python_version(),
            "platform": platform.platform()}


def delivered_after_load(result: dict) -> float | None:
    """Seconds from the load's end until all was delivered (derived for results that predate the field)."""
    if "all_delivered_s_after_load_end" in result:
        return result["all_delivered_s_after_load_end"]
    after_fault = result.get("all_delivered_s_after_fault_end")
    if after_fault is None or "load_s" not in result:
        return None
    return round(after_fault + result["fault_window_s"][1] - result["load_s"], 1)


def verdict(result: dict, baseline_p99: float | None) -> str:
    problems = []
    if result["lost"]:
        problems.append(f"{result['lost']} lost")
    if result.get("accepted_not_paid"):
        problems.append(f"{result['accepted_not_paid']} accepted but not PAID")
    late = delivered_after_load(result)
    if late is None or late > 60:
        problems.append("not all delivered in time")
    if result["name"] in REDIS_OUTAGES and result.get("dead_lettered"):
        problems.append(f"{result['dead_lettered']} dead-lettered by a Redis outage")
    if result["name"].startswith("cluster_") and result["success_rate"] != 1:
        problems.append(f"success {result['success_rate']:.2%}")
    if result["name"] in ("kafka_outage", *REDIS_OUTAGES):
        if result["success_rate"] != 1:
            problems.append(f"success {result['success_rate']:.2%}")
        if baseline_p99 and result["api_p99_ms"] and result["api_p99_ms"] > 1.5 * baseline_p99:
            problems.append(f"p99 {result['api_p99_ms'] / baseline_p99:.1f}x baseline")
    return "pass" if not problems else "FAIL: " + ", ".join(problems)


def _cell(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)


def write_summary(directory: Path = RESULTS) -> Path:
    results = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    baselines = {r["name"]: r["api_p99_ms"] for r in results if r["name"] in ("baseline", "cluster_baseline")}
    lines = ["# Chaos results", "",
             "Each row: one scenario under a steady payment load (see its JSON for the timeline). "
             "`lost` = PAID orders neither in Redis nor on the dead-letter topic. "
             "The load goes on after the fault; `all_delivered_s_after_load_end` is how long after the last "
             "payment every PAID order was in Redis or dead-lettered. "
             "Pass: lost = 0, all delivered within 60 s of the load's end (so within 60 s of the fault's end "
             "for every order paid before it), and for the Kafka and Redis "
             "outages 100% payment success with p99 within 1.5x the baseline; the Redis outages "
             "(stopped, out of memory) must dead-letter nothing. "
             "`cluster_*` rows ran on the three-node cluster (STACK_KAFKA_NODES=3): pass also needs 100% payment "
             "success; `p99_vs_baseline` compares with `cluster_baseline` there; "
             "`publish_recovered_s_after_fault_start` is when the backlog of unpublished rows was last above "
             "one second of payments.", "",
             "| " + " | ".join(COLUMNS + ["verdict", "rate/s", "finished"]) + " |",
             "|" + "---|" * (len(COLUMNS) + 3)]
    for r in results:
        baseline = baselines.get(baseline_of(r["name"]))
        ratio = round(r["api_p99_ms"] / baseline, 2) if baseline and r.get("api_p99_ms") else None
        r = {**r, "all_delivered_s_after_load_end": delivered_after_load(r), "p99_vs_baseline": ratio}
        cells = [_cell(r.get(c)) for c in COLUMNS] + [verdict(r, baseline), _cell(r.get("rate_per_s")),
                                                       r.get("finished_at", "")]
        lines.append("| " + " | ".join(cells) + " |")
    if results:
        m = results[-1]["machine"]
        lines += ["", f"Machine: {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}, {m['platform']}."]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "SUMMARY.md"
    path.write_text("\n".join(lines) + "\n")
    return path
