"""Reading one relay process's JSON log lines out of the shared service log of the test run."""
import json
import os

from harness.services import LOG_DIR, ServiceProcess


def log_events(relay: ServiceProcess) -> list[dict]:
    path = LOG_DIR / f"{relay.name}-{os.getpid()}.log"
    events = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("pid") == relay.process.pid:
            events.append(event)
    return events


def lines_of(relay: ServiceProcess) -> int:
    """All lines this process wrote, JSON or not, counted by its pid where it says it."""
    return len(log_events(relay))
