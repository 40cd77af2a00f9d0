"""What a request needs from the application: settings, the session factory, and the clock."""
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, TypeVar

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from order_api.adapters.database import in_transaction
from order_api.config import Settings

T = TypeVar("T")
EXTENSION = "order_api"


@dataclass
class Resources:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def resources() -> Resources:
    return current_app.extensions[EXTENSION]


def settings() -> Settings:
    return resources().settings


def transaction(work: Callable[[Session], T]) -> T:
    """Run `work` in one database transaction owned by this request, retried on deadlock."""
    found = resources()
    return in_transaction(found.sessions, work, attempts=found.settings.transaction_retries)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
