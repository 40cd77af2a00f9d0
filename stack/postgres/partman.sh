#!/bin/sh
# First start only (the image runs /docker-entrypoint-initdb.d/ on an empty data directory):
# pg_partman in template1 and the outbox database, as stack/native.sh does.
set -e
for db in template1 "$POSTGRES_DB"; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$db" <<SQL
CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;
SQL
done
