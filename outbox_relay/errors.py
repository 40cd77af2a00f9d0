"""What can go wrong in a relay cycle, as classes: each one is transient and retried with backoff."""


class RelayUnavailable(Exception):
    """A dependency is unreachable; the relay backs off as a whole and tries again."""


class BrokerUnavailable(RelayUnavailable):
    """No record of a batch was acknowledged and at least one failed: Kafka is (likely) down."""


class DatabaseUnavailable(RelayUnavailable):
    """PostgreSQL refused or lost the connection."""
