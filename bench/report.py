"""The Markdown report and its matplotlib figures, from the results dict of one `python -m bench` run.

Targets are reported against, never asserted. Every figure carries the machine and versions.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.machine import caption  # noqa: E402
from harness.stats import median_spread  # noqa: E402


def fmt(ms: dict | None, unit: str = "") -> str:
    """median (min–max) of a median_spread dict."""
    if not ms or ms.get("median") is None:
        return "n/a"
    return f"{ms['median']:g}{unit} ({ms['min']:g}–{ms['max']:g})"


def _ok(stage: dict | None) -> bool:
    return bool(stage and stage.get("ok"))


def _e2e_summary(e2e: dict, rate: str, key: str) -> dict | None:
    runs = e2e.get(rate) if e2e else None
    return median_spread(runs, key) if runs else None


def targets(stages: dict) -> list[tuple[str, str, str]]:
    rows = []
    api, naive, relay, worker, e2e = (stages.get(k) for k in ("payment_api", "naive_vs_outbox", "relay_drain", "worker_throughput", "e2e_latency"))
    if _ok(api) and "300" in api["rates"]:
        p99 = api["rates"]["300"]["summary"]["p99_ms"]
        rows.append(("payment p99 ≤ 25 ms at 300 req/s", fmt(p99, " ms"), _met(p99, lambda v: v <= 25)))
        best = max(api["rates"].values(), key=lambda r: r["summary"]["throughput_per_s"]["median"] or 0)
        tp = best["summary"]["throughput_per_s"]
        rows.append(("≥ 800 payments/s sustained (open loop)", fmt(tp, "/s") + " (highest median over the offered rates)",
                     _met(tp, lambda v: v >= 800)))
    closed = stages.get("api_closed_loop")
    if _ok(closed):
        tp = closed["summary"]["payments_per_s"]
        rows.append(("≥ 800 payments/s sustained (closed loop, 16 clients)", fmt(tp, "/s"), _met(tp, lambda v: v >= 800)))
    if _ok(e2e):
        exact = bool(e2e.get("500")) and all(r.get("from_commit_p50") is not None for r in e2e["500"])
        for key, limit in (("p50", 20), ("p99", 100)):
            value = _e2e_summary(e2e, "500", f"from_commit_{key}" if exact else key)
            basis = "from the commit timestamp" if exact else "from paidAt, an upper bound"
            rows.append((f"end-to-end {key} ≤ {limit} ms at 500 payments/s", fmt(value, " ms") + f" ({basis})",
                         _met(value, lambda v, l=limit: v <= l)))
    if _ok(naive):
        up = naive["conditions"]["healthy"]["outbox"]["summary"]["p99_ms"]["median"]
        down = naive["conditions"]["broker_stopped"]["outbox"]["summary"]["p99_ms"]["median"]
        ratio = round(down / up, 2) if up and down else None
        rows.append(("payment p99 with Kafka down ≤ 1.1× Kafka up", f"{ratio}× ({down} ms vs {up} ms)",
                     "met" if ratio and ratio <= 1.1 else "not met"))
    scaled = stages.get("scale")
    if _ok(scaled):
        last = scaled["table"][-1]
        rows.append((f"drain rate with {last['history_rows']:,} rows of history ≥ 0.9 × empty", f"{last['drain_ratio']}×",
                     "met" if last["drain_ratio"] >= 0.9 else "not met"))
        p99 = last["e2e_p99_ratio"]
        rows.append((f"e2e p99 with {last['history_rows']:,} rows of history ≤ 1.2 × empty", f"{p99}×",
                     "met" if p99 is not None and p99 <= 1.2 else "n/a" if p99 is None else "not met"))
    if _ok(relay):
        value = relay["summary"]["relay_to_raw_ratio"]
        rows.append(("relay ≥ 70% of the raw producer", fmt(value), _met(value, lambda v: v >= 0.7)))
    if _ok(worker):
        value = worker["summary"]["ratio"]
        rows.append(("worker ≥ 70% of the raw consumer", fmt(value), _met(value, lambda v: v >= 0.7)))
    return rows


def _met(ms: dict | None, test) -> str:
    if not ms or ms.get("median") is None:
        return "n/a"
    return "met" if test(ms["median"]) else "not met"


def _footer(fig, machine: dict) -> None:
    fig.text(0.01, 0.005, caption(machine), fontsize=6, wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 1))


def _errorbar(ax, xs, summaries, label):
    med = [s["median"] for s in summaries]
    lo = [s["median"] - s["min"] for s in summaries]
    hi = [s["max"] - s["median"] for s in summaries]
    ax.errorbar(xs, med, yerr=[lo, hi], marker="o", capsize=3, label=label)


def plot_payment_api(api: dict, machine: dict, path: Path) -> None:
    rates = sorted(api["rates"], key=float)
    xs = [float(r) for r in rates]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        _errorbar(left, xs, [api["rates"][r]["summary"][key] for r in rates], key[:3])
    left.set(xlabel="offered payments/s (open loop)", ylabel="latency from scheduled send, ms", yscale="log",
             title="Payment API latency (median of runs, bars: min–max)")
    left.legend()
    _errorbar(right, xs, [api["rates"][r]["summary"]["throughput_per_s"] for r in rates], "achieved")
    right.plot(xs, xs, linestyle=":", color="grey", label="offered")
    right.set(xlabel="offered payments/s", ylabel="successful payments/s", title="Throughput")
    right.legend()
    _footer(fig, machine)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_naive(naive: dict, machine: dict, path: Path) -> None:
    conditions = list(naive["conditions"])
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.38
    for i, variant in enumerate(("outbox", "naive")):
        values = [naive["conditions"][c][variant]["summary"]["p99_ms"]["median"] or 0 for c in conditions]
        bars = ax.bar([x + (i - 0.5) * width for x in range(len(conditions))], values, width, label=variant)
        for bar, c in zip(bars, conditions):
            ok = naive["conditions"][c][variant]["summary"]["success_rate"]["median"]
            ax.annotate(f"{ok:.0%} ok", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", fontsize=7,
                        xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(conditions)), conditions)
    ax.set(yscale="log", ylabel="payment p99, ms (log)",
           title=f"Outbox vs naive publish-in-request at {naive['rate_per_s']:g} payments/s")
    ax.legend()
    _footer(fig, machine)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_throughputs(relay: dict | None, worker: dict | None, machine: dict, path: Path) -> None:
    labels, values, spreads = [], [], []
    for stage, pairs in ((relay, (("raw producer", "raw_producer_events_per_s"), ("relay", "relay_events_per_s"))),
                         (worker, (("raw consumer", "raw_consumer_records_per_s"), ("worker", "worker_records_per_s")))):
        if not _ok(stage):
            continue
        for label, key in pairs:
            s = stage["summary"][key]
            labels.append(label)
            values.append(s["median"])
            spreads.append((s["median"] - s["min"], s["max"] - s["median"]))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.bar(labels, values, yerr=list(zip(*spreads)) if spreads else None, capsize=4,
           color=["#999", "#1f77b4", "#999", "#ff7f0e"][: len(labels)])
    ax.set(ylabel="events/s", title="Relay and worker against the raw Kafka clients (median, min–max)")
    _footer(fig, machine)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_e2e(e2e: dict, machine: dict, path: Path) -> None:
    rates = sorted(e2e, key=float)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    exact = all(run.get("from_commit_p50") is not None for r in rates for run in e2e[r])
    for key in ("p50", "p95", "p99"):
        field = f"from_commit_{key}" if exact else key
        _errorbar(ax, [float(r) for r in rates], [median_spread(e2e[r], field) for r in rates], key)
    ax.set(xlabel="payments/s", ylabel="commit → Redis write, ms", yscale="log", title="End-to-end latency")
    ax.legend()
    _footer(fig, machine)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict, md_path: Path, fig_dir: Path) -> Path:
    fig_dir.mkdir(parents=True, exist_ok=True)
    stages, m = results["stages"], results["machine"]
    rel = fig_dir.name
    lines = [f"# Benchmark report {results['started_at']}", "",
             f"Machine: {caption(m)}. Load average at start: {m['load_average_at_start']} "
             "(other work on the machine makes every figure noisier; see each stage's load average).", "",
             f"Each measurement repeated {results['repeats']}×; cells show median (min–max)."
             + (" Quick run: short measurements." if results["quick"] else ""), "",
             "## Targets (reported, not asserted)", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {ok} |" for t, v, ok in targets(stages)]
    for name, stage in stages.items():
        if not stage.get("ok"):
            lines += ["", f"## {name}: FAILED", "", "```", stage.get("error", ""), "```"]
    api = stages.get("payment_api")
    if _ok(api):
        plot_payment_api(api, m, fig_dir / "payment_api.png")
        lines += ["", "## Payment API, open loop", "",
                  "Latency from the scheduled send time (free of coordinated omission).", "",
                  "| offered/s | achieved/s | p50 ms | p95 ms | p99 ms | error rate |", "|---|---|---|---|---|---|"]
        for rate, r in sorted(api["rates"].items(), key=lambda kv: float(kv[0])):
            s = r["summary"]
            lines.append(f"| {rate} | {fmt(s['throughput_per_s'])} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} | "
                         f"{fmt(s['p99_ms'])} | {fmt(s['error_rate'])} |")
        lines += ["", f"![payment API]({rel}/payment_api.png)"]
    closed = stages.get("api_closed_loop")
    if _ok(closed):
        s = closed["summary"]
        lines += ["", "## Payment API, closed loop (bench/api_payments.py: 16 clients paying back to back)", "",
                  "| payments/s | p50 ms | p99 ms |", "|---|---|---|",
                  f"| {fmt(s['payments_per_s'])} | {fmt(s['p50_ms'])} | {fmt(s['p99_ms'])} |"]
    naive = stages.get("naive_vs_outbox")
    if _ok(naive):
        plot_naive(naive, m, fig_dir / "naive_vs_outbox.png")
        lines += ["", f"## Outbox vs naive (publish inside the request) at {naive['rate_per_s']:g}/s", "",
                  f"broker_slow: +{naive['slow_ms_each_way']:g} ms each way through the latency proxy.", "",
                  "| condition | outbox p99 ms | outbox success | naive p99 ms | naive success | naive/outbox p99 |",
                  "|---|---|---|---|---|---|"]
        for c, v in naive["conditions"].items():
            lines.append(f"| {c} | {fmt(v['outbox']['summary']['p99_ms'])} | {fmt(v['outbox']['summary']['success_rate'])} | "
                         f"{fmt(v['naive']['summary']['p99_ms'])} | {fmt(v['naive']['summary']['success_rate'])} | "
                         f"{naive['ratios_naive_over_outbox_p99'][c]} |")
        lines += ["", f"![naive vs outbox]({rel}/naive_vs_outbox.png)"]
    relay, worker = stages.get("relay_drain"), stages.get("worker_throughput")
    if _ok(relay) or _ok(worker):
        plot_throughputs(relay, worker, m, fig_dir / "relay_worker.png")
        lines += ["", "## Relay and worker against the raw clients", "", "| stage | raw /s | ours /s | ratio |", "|---|---|---|---|"]
        if _ok(relay):
            s = relay["summary"]
            lines.append(f"| relay drain ({relay['rows']} rows) | {fmt(s['raw_producer_events_per_s'])} | "
                         f"{fmt(s['relay_events_per_s'])} | {fmt(s['relay_to_raw_ratio'])} |")
        if _ok(worker):
            s = worker["summary"]
            lines.append(f"| worker into Redis ({worker['runs'][0]['records']} records) | {fmt(s['raw_consumer_records_per_s'])} | "
                         f"{fmt(s['worker_records_per_s'])} | {fmt(s['ratio'])} |")
        lines += ["", f"![relay and worker]({rel}/relay_worker.png)"]
    cost = stages.get("relay_cost")
    if _ok(cost):
        lines += ["", "## What the relay costs per event at a steady rate (bench/relay_cost.py)", "",
                  "One outbox row per transaction; commit → Kafka from `pg_xact_commit_timestamp` to the broker's "
                  "LogAppendTime; CPU seconds per 10,000 events from /proc. PostgreSQL = all its processes, the "
                  "writer's inserts included; floor = the same writer with no relay; relay's share = the difference. "
                  "In the Debezium row (its Outbox Event Router on Kafka Connect, same run, bench/cdc.py) the "
                  "relay's columns are the connector's: its Connect JVM and what it adds to PostgreSQL. "
                  "Medians of the rounds.", "",
                  "| settings | rows/s | p50 ms | p95 ms | p99 ms | relay CPU | PostgreSQL | floor | relay's share | "
                  "broker CPU | drains/s | rows/drain |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        keys = ("commit_to_kafka_p50_ms", "commit_to_kafka_p95_ms", "commit_to_kafka_p99_ms", "relay_cpu_s_per_10k",
                "postgres_cpu_s_per_10k", "writer_alone_postgres_cpu_s_per_10k", "relay_postgres_cpu_s_per_10k",
                "broker_cpu_s_per_10k", "drains_per_s", "rows_per_drain")
        for variant, result in cost["variants"].items():
            for rate, figures in result["rates"].items():
                lines.append(f"| {variant} | {rate} | " + " | ".join(fmt(figures["summary"].get(key)) for key in keys) + " |")
    e2e = stages.get("e2e_latency")
    if _ok(e2e):
        data = {k: v for k, v in e2e.items() if k not in ("ok", "seconds", "load_average_after")}
        plot_e2e(data, m, fig_dir / "e2e_latency.png")
        lines += ["", "## End to end: payment commit → Redis write", "",
                  "From the payment transaction's commit timestamp (PostgreSQL `pg_xact_commit_timestamp`) to the "
                  "first SET of its key in Redis. For comparison, the p50/p99 from `paidAt` (the transaction's start: "
                  "an upper bound that includes the API's own work) and from the client's answer (after commit: a "
                  "lower bound). Achieved = payments/s the API really served.", "",
                  "| offered/s | achieved/s | p50 ms | p95 ms | p99 ms | [p50, p99] from paidAt | [p50, p99] from answer | not in Redis within 60 s |",
                  "|---|---|---|---|---|---|---|---|"]
        for rate in sorted(data, key=float):
            runs = data[rate]
            lines.append(f"| {rate} | {fmt(median_spread(runs, 'throughput_per_s'))} | {fmt(median_spread(runs, 'from_commit_p50'))} | "
                         f"{fmt(median_spread(runs, 'from_commit_p95'))} | {fmt(median_spread(runs, 'from_commit_p99'))} | "
                         f"[{fmt(median_spread(runs, 'p50'))}, {fmt(median_spread(runs, 'p99'))}] | "
                         f"[{fmt(median_spread(runs, 'from_answer_p50'))}, {fmt(median_spread(runs, 'from_answer_p99'))}] | "
                         f"{sum(r['not_in_redis_within_60s'] for r in runs)} |")
        lines += ["", f"![end to end]({rel}/e2e_latency.png)"]
    scaled = stages.get("scale")
    if _ok(scaled):
        from bench import scale

        lines += ["", "## A full outbox: published history against drain, claim and latency (bench/scale.py)", "",
                  *scale.markdown(scaled)]
    soaked = stages.get("soak")
    if _ok(soaked):
        from bench import soak

        lines += ["", "## A soak: steady payments, retention on a compressed clock, a long transaction (bench/soak.py)", "",
                  *soak.markdown(soaked)]
    paying = stages.get("payment_cost")
    if _ok(paying):
        from bench import payment_cost

        lines += ["", "## What the outbox costs the payment (bench/payment_cost.py)", "", *payment_cost.markdown(paying)]
    on_cluster = stages.get("cluster")
    if _ok(on_cluster):
        single, cluster, ratio = on_cluster["median"]["single"], on_cluster["median"]["cluster"], on_cluster["cluster_to_single"]
        lines += ["", "## Three-node cluster next to the single node (bench/cluster.py, rounds alternating)", "",
                  "| figure | single node | cluster | cluster / single |", "|---|---|---|---|"]
        lines += [f"| {key} | {single[key]} | {cluster[key]} | {ratio[key]} |" for key in single]
    traced = stages.get("tracing_cost")
    if _ok(traced):
        lines += ["", "## What tracing costs a payment (bench/tracing_cost.py: closed loop, traces off and on alternating)", "",
                  "On: OpenTelemetry's SDK with the OTLP/HTTP exporter to a receiver on this machine, every request sampled.", "",
                  "| traces | payments/s | p50 ms | p99 ms | API CPU ms per payment |", "|---|---|---|---|---|"]
        for mode in ("off", "on"):
            s = traced["summary"][mode]
            lines.append(f"| {mode} | {fmt(s['payments_per_s'])} | {fmt(s['p50_ms'])} | {fmt(s['p99_ms'])} | "
                         f"{fmt(s['api_cpu_ms_per_payment'])} |")
        lines += ["", f"On/off ratios: {traced['on_to_off']}; traced payments cost "
                      f"{traced['traced_extra_cpu_ms_per_payment']} ms more API CPU each. With traces off, a payment "
                      f"spends {traced['off_path_us_per_payment']} µs on trace headers and log look-ups."]
    profile = stages.get("profile")
    if _ok(profile):
        lines += ["", f"## Profile of the payment request ({profile['payments']} payments, pyinstrument)", "",
                  f"{profile['ms_per_payment']} ms per payment in-process (no HTTP server). Full profile: "
                  f"`{profile.get('html', '')}`.", "", "```", *profile["text"].splitlines()[:60], "```"]
    lines += ["", "## Stage durations and machine load", "", "| stage | seconds | load average after |", "|---|---|---|"]
    lines += [f"| {n} | {s.get('seconds')} | {s.get('load_average_after')} |" for n, s in stages.items()]
    md_path.write_text("\n".join(lines) + "\n")
    return md_path
