"""CPU seconds (user + system) of processes, from /proc: what benchmarks and tests report per event."""
import os
from pathlib import Path


def cpu_seconds(pid: int, with_exited_children: bool = False) -> float:
    """One process; with `with_exited_children`, also what its children that exited used (those it
    waited for: a postmaster's ended sessions)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if with_exited_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int, with_exited_children: bool = False) -> float:
    """A process and its live children (gunicorn's master and workers, a postmaster and its backends)."""
    total = cpu_seconds(pid, with_exited_children)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            total += cpu_seconds(int(child))
        except FileNotFoundError:  # exited meanwhile: counted with the exited children, if asked
            pass
    return total
