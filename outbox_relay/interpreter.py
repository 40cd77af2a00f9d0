"""Interpreter settings for the relay's process: it is one GIL shared by four busy threads.

- Switch interval 1 ms (Python's default is 5 ms): while the sending thread keeps the GIL busy,
  every database answer (claim, mark, commit) and every broker answer waits for the next forced
  switch before its thread can go on. At 5 ms a batch's marks, a few round trips, took longer than
  sending the next batch, so the sender waited for them (profiled during a 100,000-row drain).
- The garbage collector: the start-up objects (SQLAlchemy, kafka-python, pydantic) are frozen out
  of the collections, and the youngest generation is collected every 50,000 allocations instead of
  every 700: a drain allocates several short-lived objects per record (rows, futures, headers),
  none of them in reference cycles, and each full collection walked every start-up object again.

`tuned()` applies both and restores the previous values on exit (the benchmark runs the relay in
its own process next to other stages); `tune()` applies them for good (the relay's process).
"""
import contextlib
import gc
import sys
from typing import Iterator

SWITCH_INTERVAL_SECONDS = 0.001
GC_THRESHOLD = (50_000, 20, 100)


def tune() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


@contextlib.contextmanager
def tuned() -> Iterator[None]:
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    tune()
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        gc.unfreeze()
