"""Engine, session factory and the transaction runner every entrypoint uses.

`in_transaction` runs a unit of work in one transaction and retries the whole of it when
PostgreSQL reports a deadlock or a serialization failure, so neither ever reaches a client.
"""
from functools import lru_cache
from typing import Callable, TypeVar

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from common.db import make_engine
from order_api.config import Settings

T = TypeVar("T")
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
log = structlog.get_logger()


def engine_for(settings: Settings) -> Engine:
    """The API's pool. No ping on checkout: it was one extra round trip in every request.

    A connection that died (PostgreSQL restarted) fails its request with a 503, like the requests
    during the restart itself, and that disconnect invalidates the whole pool, so the next
    requests get fresh connections; no payment is half-written either way.
    """
    return make_engine(
        settings.database_url,
        application_name="order_api",
        pool_pre_ping=False,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
            "connect_timeout": settings.db_connect_timeout_seconds,
        },
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "pgcode", None) in RETRYABLE_SQLSTATES


def _log_retry(state) -> None:
    log.warning("transaction_retry", attempt=state.attempt_number, error=str(state.outcome.exception())[:200])


@lru_cache(maxsize=None)
def _retrying(attempts: int) -> Retrying:
    """The retry policy, built once per attempt count; tenacity keeps its per-call state per thread."""
    return Retrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=0.01, max=0.5),
        before_sleep=_log_retry,
        reraise=True,
    )


def _attempt(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    with sessions.begin() as session:
        return work(session)


def in_transaction(sessions: sessionmaker[Session], work: Callable[[Session], T], attempts: int = 5) -> T:
    """Run `work(session)` in one transaction; commit if it returns, roll back if it raises."""
    return _retrying(attempts)(_attempt, sessions, work)
