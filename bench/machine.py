"""The machine and the versions a benchmark ran on, for every figure and table to name."""
import os
import platform
import re
from importlib.metadata import version
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SETTINGS = ("shared_buffers", "max_wal_size", "wal_level")  # what a figure at scale depends on
LIBRARIES = ("flask", "sqlalchemy", "psycopg2-binary", "kafka-python", "redis", "gunicorn")


def _kafka_version() -> str:
    match = re.search(r"<kafka.version>([^<]+)<", (ROOT / "stack" / "kafka" / "pom.xml").read_text())
    return match.group(1) if match else "unknown"


def describe(database_url: str, redis_url: str) -> dict:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        postgres = conn.execute(text("SHOW server_version")).scalar_one()
        settings = {name: conn.execute(text(f"SHOW {name}")).scalar_one() for name in POSTGRES_SETTINGS}
    engine.dispose()
    client = redis.Redis.from_url(redis_url)
    redis_version = client.info("server")["redis_version"]
    client.close()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(), "memory_gb": round(memory_gb, 1), "cpu_model": _cpu_model(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(), "python": platform.python_version(),
        "postgres": postgres, "postgres_settings": settings, "redis": redis_version, "kafka": _kafka_version(),
        "libraries": {name: version(name) for name in LIBRARIES},
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def caption(machine: dict) -> str:
    libs = ", ".join(f"{k} {v}" for k, v in machine["libraries"].items())
    return (f"{machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gb']} GB; Python {machine['python']}, "
            f"PostgreSQL {machine['postgres']}{_settings(machine)}, Redis {machine['redis']}, Kafka {machine['kafka']}; {libs}")


def _settings(machine: dict) -> str:
    settings = machine.get("postgres_settings")  # results written before it was recorded have none
    return f" ({', '.join(f'{k} {v}' for k, v in settings.items())})" if settings else ""
