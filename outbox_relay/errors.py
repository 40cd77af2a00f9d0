"""What can go wrong in a relay cycle, as classes: each one is transient and retried with backoff.

`database_errors` is the one place where the driver's errors become ours.
"""
import contextlib
from typing import Iterator

from sqlalchemy.exc import InterfaceError, OperationalError


class RelayUnavailable(Exception):
    """A dependency is unreachable; the relay backs off as a whole and tries again."""


class BrokerUnavailable(RelayUnavailable):
    """No record of a batch was acknowledged and at least one failed: Kafka is (likely) down."""


class DatabaseUnavailable(RelayUnavailable):
    """PostgreSQL refused or lost the connection."""


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """Raise a lost or refused PostgreSQL connection as DatabaseUnavailable."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        raise DatabaseUnavailable(str(error.orig or error).strip()) from error
