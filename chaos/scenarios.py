"""The chaos scenarios: which services run, which fault is injected, when and for how long."""
from dataclasses import dataclass

from chaos import cluster_faults, faults


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    fault: faults.Fault
    fault_s: float = 0.0  # planned duration of the fault (outage length, slow period, kill window)
    relays: int = 1
    workers: int = 1
    via_proxy: bool = False  # the services reach Kafka through the latency proxy
    kafka_nodes: int = 1  # the stack's STACK_KAFKA_NODES the scenario needs

    def scaled(self, factor: float) -> "Scenario":
        from dataclasses import replace

        return replace(self, fault_s=self.fault_s * factor)


ALL = [
    Scenario("baseline", "no fault: the reference for latency", faults.nothing),
    Scenario("relay_sigkill", "SIGKILL the relay mid-load; its supervisor restarts it 5 s later",
             faults.sigkill("relay-", 5.0)),
    Scenario("worker_sigkill", "SIGKILL the worker mid-load; its supervisor restarts it 5 s later",
             faults.sigkill("worker-", 5.0)),
    Scenario("kafka_outage", "Kafka stopped for 30 s (stack/native.sh stop kafka), then started", faults.outage("kafka"), 30.0),
    Scenario("redis_outage", "Redis stopped for 30 s (stack/native.sh stop redis), then started", faults.outage("redis"), 30.0),
    Scenario("redis_oom", "Redis out of memory for 30 s (maxmemory below its use, noeviction: every write refused "
             "with OOM), then its memory raised again", faults.redis_out_of_memory(), 30.0),
    Scenario("postgres_restart", "PostgreSQL stopped (fast shutdown) and started again; no service restarted",
             faults.restart("postgres")),
    Scenario("random_kills", "2 relays + 2 workers; every 3-8 s one of them (relays and workers in turn, the instance at random) is SIGKILLed and restarted 1-4 s later",
             faults.random_kills((3.0, 8.0), (1.0, 4.0)), 40.0, relays=2, workers=2),
    Scenario("kafka_slow", "services reach Kafka through a proxy that adds 100 ms each way for 60 s",
             faults.slow_kafka(100.0), 60.0, via_proxy=True),
]

# With STACK_KAFKA_NODES=3: each node broker and controller, RF 3, min.insync.replicas 2.
CLUSTER = [
    Scenario("cluster_baseline", "three-node cluster, no fault: the reference for the cluster scenarios",
             faults.nothing, kafka_nodes=3),
    Scenario("cluster_leader_sigkill", "SIGKILL the node leading most partitions of order.processed; restarted 30 s later",
             cluster_faults.kill_busiest_leader(30.0), 30.0, kafka_nodes=3),
    Scenario("cluster_rolling_restart", "each node stopped cleanly and started again, one after the other (the next once all replicas are in sync)",
             cluster_faults.rolling_restart, kafka_nodes=3),
    Scenario("cluster_two_nodes_down", "kafka-3 and kafka-2 stopped for 30 s (one replica left, min.insync.replicas 2 unmet), then started",
             cluster_faults.two_nodes_down, 30.0, kafka_nodes=3),
    Scenario("cluster_controller_sigkill", "SIGKILL the active KRaft controller; restarted 30 s later",
             cluster_faults.kill_active_controller(30.0), 30.0, kafka_nodes=3),
]

BY_NAME = {scenario.name: scenario for scenario in ALL + CLUSTER}
