"""How far publishing lags behind the payments while a scenario runs, sampled twice a second.

`recovered_s_after(fault_start, threshold)` is the time from the fault's start until the backlog
(committed outbox rows not yet marked published) was last above `threshold`: from then on the relay
published as fast as payments came in. 0 when the fault never pushed it above the threshold.
"""
import threading
import time

from sqlalchemy import create_engine, text

INTERVAL_S = 0.5


class BacklogSampler(threading.Thread):
    def __init__(self, database_url: str, started: float):
        super().__init__(daemon=True)
        self.engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_pre_ping=True)
        self.started = started
        self.samples: list[tuple[float, int]] = []  # (seconds since the load started, pending rows)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(INTERVAL_S):
            try:
                with self.engine.connect() as conn:
                    pending = conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one()
                self.samples.append((round(time.monotonic() - self.started, 2), pending))
            except Exception:  # PostgreSQL itself may be the fault; the gap shows in the samples
                continue

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
        self.engine.dispose()

    def recovered_s_after(self, fault_start: float | None, threshold: int) -> float | None:
        if fault_start is None or not self.samples:
            return None
        above = [t for t, pending in self.samples if t >= fault_start and pending > threshold]
        return round(above[-1] + INTERVAL_S - fault_start, 1) if above else 0.0

    def peak_after(self, fault_start: float | None) -> int | None:
        during = [pending for t, pending in self.samples if fault_start is not None and t >= fault_start]
        return max(during) if during else None
