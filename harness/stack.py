"""The stack's components stopped and started through `stack/native.sh stop|start <name>`.

native.sh honours STACK_DIR and the STACK_* ports of the environment, so the same call drives the
default stack, CI's or a private one.
"""
import os
import subprocess
from pathlib import Path

NATIVE = Path(__file__).resolve().parents[1] / "stack" / "native.sh"


class StackCommandFailed(RuntimeError):
    """stack/native.sh could not stop or start a component."""


def stack(command: str, name: str, timeout_s: float = 180.0) -> None:
    done = subprocess.run([str(NATIVE), command, name], capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise StackCommandFailed(f"native.sh {command} {name}: {done.stderr.strip()[-500:]}")


def pid_of(name: str) -> int:
    """The pid of a running component of the stack under STACK_DIR (postgres: its postmaster)."""
    state = Path(os.environ.get("STACK_DIR", NATIVE.parents[1] / ".stack"))
    if name == "postgres":
        return int((state / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
    return int((state / "run" / f"{name}.pid").read_text().strip())
