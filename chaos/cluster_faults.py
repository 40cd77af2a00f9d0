"""Faults of the three-node cluster (STACK_KAFKA_NODES=3): nodes killed, restarted, stopped.

Which node is hit is decided at the moment of the fault from the cluster itself: the node that
leads most partitions of the run's topic, or the active KRaft controller. Nodes are killed,
stopped and started only through `stack/native.sh kill|stop|start kafka-<i>`.
"""
from common.kafka_cluster import active_controller, leader_counts, wait_until_replicated
from chaos.faults import Fault, FaultContext
from harness.stack import stack

NODES = (1, 2, 3)


def _brokers_and_topics(ctx: FaultContext) -> tuple[str, list[str]]:
    env = ctx.pipeline.env
    return env["KAFKA_BROKERS"], [env["WORKER_TOPIC"], env["WORKER_DLQ_TOPIC"], "__consumer_offsets"]


def _kill_and_restart(ctx: FaultContext, node: int, down_s: float, why: str) -> None:
    ctx.note(f"SIGKILL kafka-{node} ({why})")
    try:
        stack("kill", f"kafka-{node}")
        ctx.wait(down_s)
    finally:
        ctx.note(f"starting kafka-{node}")
        stack("start", f"kafka-{node}")
        ctx.note(f"kafka-{node} healthy again")


def kill_busiest_leader(down_s: float) -> Fault:
    def inject(ctx: FaultContext, _duration_s: float) -> None:
        brokers, topics = _brokers_and_topics(ctx)
        counts = leader_counts(brokers, topics[0])
        node, led = counts.most_common(1)[0]
        _kill_and_restart(ctx, node, down_s, f"leads {led} of {sum(counts.values())} partitions of {topics[0]}")

    return inject


def kill_active_controller(down_s: float) -> Fault:
    def inject(ctx: FaultContext, _duration_s: float) -> None:
        brokers, _ = _brokers_and_topics(ctx)
        _kill_and_restart(ctx, active_controller(brokers), down_s, "the active controller")

    return inject


def rolling_restart(ctx: FaultContext, _duration_s: float) -> None:
    """Each node stopped cleanly and started again, the next only once every replica is back in sync."""
    brokers, topics = _brokers_and_topics(ctx)
    for node in NODES:
        wait_until_replicated(brokers, topics, 3, timeout_s=120)
        ctx.note(f"stopping kafka-{node}")
        try:
            stack("stop", f"kafka-{node}")
        finally:
            stack("start", f"kafka-{node}")
            ctx.note(f"kafka-{node} healthy again")


def two_nodes_down(ctx: FaultContext, duration_s: float) -> None:
    """kafka-2 and kafka-3 stopped: one replica left of three, min.insync.replicas 2 unmet."""
    down = []
    try:
        for node in (3, 2):
            ctx.note(f"stopping kafka-{node}")
            stack("stop", f"kafka-{node}")
            down.append(node)
        ctx.note("one node of three running: writes refused (NOT_ENOUGH_REPLICAS)")
        ctx.wait(duration_s)
    finally:
        for node in reversed(down):  # kafka-2 first: with it the writes are accepted again
            ctx.note(f"starting kafka-{node}")
            stack("start", f"kafka-{node}")
            ctx.note(f"kafka-{node} healthy again")
