"""The contract's default addresses and names (DESIGN.md, "Environment"): one definition each.

Every settings class, script and test that needs a default imports it from here.
"""
DATABASE_URL = "postgresql+psycopg2://outbox:outbox@127.0.0.1:5432/outbox"
REDIS_URL = "redis://127.0.0.1:6379/0"
KAFKA_BROKERS = "127.0.0.1:9092"
KAFKA_CLIENT_ID = "ecommerce-app"
