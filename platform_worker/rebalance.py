"""Partition moves in the group: counted and logged; a revoked partition's finished offsets are handed
over (commits.py) and its records leave a batch held through a sink outage (sink_outage.py)."""
import structlog
from kafka import ConsumerRebalanceListener

from platform_worker.commits import CommitTracker
from platform_worker.metrics import WorkerMetrics
from platform_worker.sink_outage import SinkOutage

log = structlog.get_logger("platform_worker")


class RebalanceListener(ConsumerRebalanceListener):
    def __init__(self, metrics: WorkerMetrics):
        self.metrics = metrics
        self.commits: CommitTracker | None = None
        self.outage: SinkOutage | None = None

    def on_partitions_assigned(self, assigned):
        self._count("assigned", assigned)

    def on_partitions_revoked(self, revoked):
        if self._count("revoked", revoked) and self.commits is not None:
            self.commits.hand_over(revoked)
        self._drop_held(revoked)
        self._drop_lag(revoked)

    def on_partitions_lost(self, lost):
        if self._count("lost", lost) and self.commits is not None:
            self.commits.forget(lost)
        self._drop_held(lost)
        self._drop_lag(lost)

    def _count(self, event: str, partitions) -> bool:
        """Count and log a move; False when it moved no partition."""
        if not partitions:
            return False
        self.metrics.partition_changes.labels(event).inc(len(partitions))
        log.info(f"partitions {event}", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in partitions))
        return True

    def _drop_held(self, partitions) -> None:
        if partitions and self.outage is not None:
            self.outage.forget(partitions)

    def _drop_lag(self, partitions) -> None:
        for tp in partitions:
            for gauge in (self.metrics.lag, self.metrics.lag_seconds):
                try:
                    gauge.remove(tp.topic, str(tp.partition))
                except KeyError:
                    pass
