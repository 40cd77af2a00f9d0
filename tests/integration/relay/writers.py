"""Concurrent writers of outbox rows, each key owned by one writer as an order is by its payment."""
import random
import threading

from sqlalchemy import Engine

from tests.integration.relay.outbox_rows import write_event


class Writers:
    """`writers` threads writing `events` rows over `keys` keys in transactions of 1 to 4 rows."""

    def __init__(self, engine: Engine, topic: str, *, events: int, keys: int, writers: int):
        self.engine, self.topic = engine, topic
        self.events, self.keys, self.writers = events, keys, writers
        self.written = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(writers)]

    def start(self) -> "Writers":
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float = 300) -> None:
        for thread in self._threads:
            thread.join(timeout)
        assert not self.errors, self.errors

    def _write(self, writer: int) -> None:
        own_keys = [key for key in range(self.keys) if key % self.writers == writer]
        quota = self.events // self.writers + (writer < self.events % self.writers)
        rng = random.Random(writer)
        try:
            while quota:
                size = min(quota, rng.randint(1, 4))
                with self.engine.begin() as conn:
                    for _ in range(size):
                        write_event(conn, self.topic, rng.choice(own_keys))
                quota -= size
                with self._lock:
                    self.written += size
        except BaseException as error:  # surfaced by join()
            self.errors.append(error)
