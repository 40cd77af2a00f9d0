#!/usr/bin/env bash
# The native stack (no Docker engine): PostgreSQL and Redis from Debian's packages, the official
# Apache Kafka broker (KRaft: one node, or STACK_KAFKA_NODES=3 nodes) from Maven Central on the
# machine's Java 17, and the three services from the project's venv. Everything listens on 127.0.0.1.
#
# State lives under $STACK_DIR (default <repo>/.stack): data directories, logs in log/<name>.log,
# pid files in run/<name>.pid. A component is stopped only through its own pid file.
#
#   stack/native.sh install | infra | migrate | seed | up | observe | down | status
#   stack/native.sh start <name> | stop <name>      name: postgres kafka redis order-api outbox-relay platform-worker prometheus
#                                                    and, with STACK_KAFKA_NODES=3, kafka-1 kafka-2 kafka-3
#                                                    (kafka then means all nodes)
#   stack/native.sh kill <name>                      SIGKILL (fault injection)
#   stack/native.sh run <command...>                 runs a command with the stack's environment
#
# Ports are overridable so several stacks can run side by side: STACK_PG_PORT, STACK_REDIS_PORT,
# STACK_KAFKA_PORT, STACK_KAFKA_CONTROLLER_PORT, API_PORT, RELAY_METRICS_PORT, WORKER_METRICS_PORT.
# With STACK_KAFKA_NODES=3, node i listens on STACK_KAFKA_PORT + 2(i-1) and its controller on
# STACK_KAFKA_CONTROLLER_PORT + 2(i-1).
# STACK_PG_WAL_LEVEL (default replica): logical lets a CDC connector read the outbox (the role
# `outbox` then gets REPLICATION), as bench.relay_cost's Debezium comparison needs; PostgreSQL takes
# it at start: `stack/native.sh stop postgres; STACK_PG_WAL_LEVEL=logical stack/native.sh start postgres`.
# STACK_PG_SHARED_BUFFERS (default 1GB; PostgreSQL's own is 128MB): PostgreSQL's page cache, also taken
# at start; README "A full outbox" has what it does to the claim with 20 million rows of history.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd)"
VENV="${VENV:-$ROOT/.venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
LOG_DIR="$STACK_DIR/log"
RUN_DIR="$STACK_DIR/run"

STACK_PG_PORT="${STACK_PG_PORT:-5432}"
STACK_PG_WAL_LEVEL="${STACK_PG_WAL_LEVEL:-replica}"
STACK_PG_SHARED_BUFFERS="${STACK_PG_SHARED_BUFFERS:-1GB}"
STACK_REDIS_PORT="${STACK_REDIS_PORT:-6379}"
STACK_KAFKA_PORT="${STACK_KAFKA_PORT:-9092}"
STACK_KAFKA_CONTROLLER_PORT="${STACK_KAFKA_CONTROLLER_PORT:-9093}"
STACK_KAFKA_NODES="${STACK_KAFKA_NODES:-1}"
case "$STACK_KAFKA_NODES" in
  1 | 3) ;;
  *) printf 'native.sh: STACK_KAFKA_NODES must be 1 or 3, not %s\n' "$STACK_KAFKA_NODES" >&2; exit 2 ;;
esac
# The services' own ports go to the services only (see start_service), not to `run`'s commands.
API_PORT="${API_PORT:-8000}"
RELAY_METRICS_PORT="${RELAY_METRICS_PORT:-9101}"
WORKER_METRICS_PORT="${WORKER_METRICS_PORT:-9102}"
STACK_PROMETHEUS_PORT="${STACK_PROMETHEUS_PORT:-9090}"
export DATABASE_URL="${DATABASE_URL:-postgresql+psycopg2://outbox:outbox@127.0.0.1:$STACK_PG_PORT/outbox}"
kafka_node_port() { echo $((STACK_KAFKA_PORT + 2 * ($1 - 1))); }
kafka_controller_port() { echo $((STACK_KAFKA_CONTROLLER_PORT + 2 * ($1 - 1))); }
# The Kafka components: `kafka` alone, or one `kafka-<i>` per node of a cluster.
KAFKA_NODES=()
all_brokers=""
if [ "$STACK_KAFKA_NODES" -eq 1 ]; then
  KAFKA_NODES=(kafka)
  all_brokers="127.0.0.1:$STACK_KAFKA_PORT"
else
  for ((i = 1; i <= STACK_KAFKA_NODES; i++)); do
    KAFKA_NODES+=("kafka-$i")
    all_brokers="${all_brokers:+$all_brokers,}127.0.0.1:$(kafka_node_port "$i")"
  done
fi
export KAFKA_BROKERS="${KAFKA_BROKERS:-$all_brokers}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$STACK_REDIS_PORT/0}"
export ADMIN_TOKEN="${ADMIN_TOKEN:-dev-admin-token}"
export ENVIRONMENT="${ENVIRONMENT:-dev}"

INFRA=(postgres redis kafka) # `kafka` starts every node
SERVICES=(order-api outbox-relay platform-worker)
OBSERVE=(prometheus)
ALL=(postgres redis "${KAFKA_NODES[@]}" "${SERVICES[@]}" "${OBSERVE[@]}")

PG_DATA="$STACK_DIR/postgres/data"
PG_SOCKET="$STACK_DIR/postgres/socket"
KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_LIBS="$KAFKA_DIR/libs"

say() { printf '==> %s\n' "$*"; }
die() { printf 'native.sh: %s\n' "$*" >&2; exit 1; }
hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- install

apt_install_missing() {
  local missing=()
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
  # pg_partman 4.7 (Debian 12's package) manages the outbox's daily partitions (migration 0005)
  compgen -G '/usr/share/postgresql/*/extension/pg_partman.control' >/dev/null || missing+=(postgresql-15-partman)
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
  command -v curl >/dev/null || missing+=(curl)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus)
  venv_python >/dev/null || missing+=(python3 python3-venv)
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run as root or install them"
  say "apt-get install ${missing[*]}"
  # Debian's packages start their own server (postgres 5432, redis 6379) on install: forbid that,
  # with a policy-rc.d of our own that goes away afterwards (one already there is left alone).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  local status=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update &&
      DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 \
        install --no-install-recommends "${missing[@]}"
  } >>"$LOG_DIR/install.log" 2>&1 || status=$?
  if [ -n "$(trap -p EXIT)" ]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  [ "$status" -eq 0 ] || die "apt-get failed ($status); see $LOG_DIR/install.log"
}

install_kafka_libs() {
  local pom="$ROOT/stack/kafka/pom.xml" stamp="$KAFKA_DIR/libs.stamp"
  if [ -d "$KAFKA_LIBS" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$(hash_of "$pom")" ]; then
    return 0
  fi
  say "gathering the Kafka broker's jars with mvn into $KAFKA_LIBS"
  local tmp="$KAFKA_DIR/libs.tmp"
  rm -rf "$tmp"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp" >>"$LOG_DIR/install.log" 2>&1 ||
    die "mvn could not gather the Kafka jars; see $LOG_DIR/install.log"
  rm -rf "$KAFKA_LIBS" "$ROOT/stack/kafka/target"
  mv "$tmp" "$KAFKA_LIBS"
  hash_of "$pom" >"$stamp"
}

# A Python 3.11 that can make a venv with pip (Debian's own python3.11 needs python3-venv for that).
venv_python() {
  local candidate
  for candidate in python3.11 python3 /usr/bin/python3.11; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_python() {
  local stamp="$VENV/.stack-pyproject.sha256" want
  want="$(hash_of "$ROOT/pyproject.toml")"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  if ! "$VENV/bin/python" -c '' 2>/dev/null; then
    say "creating the virtual environment $VENV"
    rm -rf "$VENV"
    local python
    python="$(venv_python)" || die "no Python 3.11 with venv found (the project requires 3.11)"
    "$python" -m venv "$VENV"
  fi
  say "pip install -e '.[dev,bench]' into $VENV"
  (cd "$ROOT" && "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[dev,bench]') \
    >>"$LOG_DIR/install.log" 2>&1 || die "pip install failed; see $LOG_DIR/install.log"
  echo "$want" >"$stamp"
}

cmd_install() {
  apt_install_missing
  install_kafka_libs
  install_python
}

# ---------------------------------------------------------------- processes

pid_file() { echo "$RUN_DIR/$1.pid"; }

alive() {
  local pid="$1" state
  [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)"
  [ "$state" != Z ]
}

# The kernel's start time of a pid: with the pid it identifies one process, never a later reuse.
start_time() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

record_pid() {
  echo "$2" >"$(pid_file "$1")"
  start_time "$2" >"$RUN_DIR/$1.started"
}

forget_pid() { rm -f "$(pid_file "$1")" "$RUN_DIR/$1.started"; }

running_pid() {
  local file pid
  file="$(pid_file "$1")"
  [ -s "$file" ] || return 1
  pid="$(cat "$file")"
  alive "$pid" || return 1
  [ "$(start_time "$pid")" = "$(cat "$RUN_DIR/$1.started" 2>/dev/null)" ] || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_free_ports() {
  local name="$1" port
  shift
  for port in "$@"; do
    port_in_use "$port" && die "cannot start $name: 127.0.0.1:$port is already in use (another stack? set STACK_*_PORT)"
  done
  return 0
}

# Runs "$@" detached from the terminal, output appended to the component's log; records its pid.
spawn() {
  local name="$1"
  shift
  (cd "$ROOT" && exec setsid nohup "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null) &
  record_pid "$name" "$!"
}

# Polls "$check" (with any further arguments) until it succeeds; fails early if the process died,
# or at the deadline.
wait_healthy() {
  local name="$1" timeout="$2" check="$3" pid deadline
  shift 3
  pid="$(cat "$(pid_file "$name")")"
  deadline=$((SECONDS + timeout))
  until "$check" "$@" >/dev/null 2>&1; do
    if ! alive "$pid"; then
      forget_pid "$name"
      tail -n 25 "$LOG_DIR/$name.log" >&2 || true
      die "$name exited during start-up; see $LOG_DIR/$name.log"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 25 "$LOG_DIR/$name.log" >&2 || true
      die "$name not healthy within ${timeout}s (pid $pid still running); see $LOG_DIR/$name.log"
    fi
    sleep 0.3
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# ---------------------------------------------------------------- postgres

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] || die "PostgreSQL binaries not found in /usr/lib/postgresql/*/bin; run: stack/native.sh install"
  echo "$dir"
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# postgres refuses to run as root: let the postgres user reach its directories under $STACK_DIR.
pg_prepare_dirs() {
  mkdir -p "$STACK_DIR/postgres" "$PG_SOCKET"
  chmod o+x "$STACK_DIR" "$STACK_DIR/postgres"
  chown postgres:postgres "$PG_SOCKET"
  touch "$LOG_DIR/postgres.log"
  chown postgres:postgres "$LOG_DIR/postgres.log"
  as_postgres test -x "$STACK_DIR/postgres" && return 0
  local dir="" part
  IFS=/ read -ra parts <<<"${STACK_DIR#/}"
  for part in "${parts[@]}"; do
    dir="$dir/$part"
    if ! as_postgres test -x "$dir"; then
      say "letting the postgres user traverse $dir (chmod o+x)"
      chmod o+x "$dir"
    fi
  done
}

pg_init() {
  [ -s "$PG_DATA/PG_VERSION" ] && return 0
  say "initdb $PG_DATA"
  mkdir -p "$PG_DATA"
  chown postgres:postgres "$PG_DATA"
  chmod 700 "$PG_DATA"
  as_postgres "$(pg_bin)/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >>"$LOG_DIR/postgres.log" 2>&1 ||
    die "initdb failed; see $LOG_DIR/postgres.log"
}

pg_healthy() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$STACK_PG_PORT"; }

pg_sql() {
  as_postgres "$(pg_bin)/psql" -h "$PG_SOCKET" -p "$STACK_PG_PORT" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

pg_create_role_and_database() {
  pg_sql -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'outbox') THEN
        CREATE ROLE outbox LOGIN CREATEDB PASSWORD 'outbox';
      END IF;
    END \$\$;" >/dev/null
  if [ "$STACK_PG_WAL_LEVEL" = logical ]; then pg_sql -c "ALTER ROLE outbox REPLICATION" >/dev/null; fi
  if [ -z "$(pg_sql -c "SELECT 1 FROM pg_database WHERE datname = 'outbox'")" ]; then
    pg_sql -c "CREATE DATABASE outbox OWNER outbox" >/dev/null
  fi
  pg_create_partman template1
  pg_create_partman outbox
}

# pg_partman in a database, usable by the role `outbox` (migration 0005 partitions the outbox with
# it; the relay's retention runs its maintenance). Creating an extension needs the superuser; in
# template1 it reaches every database created later, the tests' own included. Idempotent.
pg_create_partman() {
  as_postgres "$(pg_bin)/psql" -h "$PG_SOCKET" -p "$STACK_PG_PORT" -d "$1" -v ON_ERROR_STOP=1 -qAt -c "
    CREATE SCHEMA IF NOT EXISTS partman;
    CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;
    GRANT ALL ON SCHEMA partman TO outbox;
    GRANT ALL ON ALL TABLES IN SCHEMA partman TO outbox;
    GRANT ALL ON ALL SEQUENCES IN SCHEMA partman TO outbox;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA partman TO outbox;
    GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA partman TO outbox;" >/dev/null ||
    die "could not create pg_partman in $1; is postgresql-15-partman installed? (stack/native.sh install)"
}

# track_commit_timestamp: pg_xact_commit_timestamp(xmin) tells when a payment really committed
# (bench/e2e_latency.py measures commit -> Redis with it); it costs a few bytes per transaction.
start_postgres() {
  [ -x "$(pg_bin)/postgres" ] || die "PostgreSQL is not installed; run: stack/native.sh install"
  require_free_ports postgres "$STACK_PG_PORT"
  pg_prepare_dirs
  pg_init
  as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DATA" -l "$LOG_DIR/postgres.log" -w -t 60 start -o \
    "-p $STACK_PG_PORT -k $PG_SOCKET -c listen_addresses=127.0.0.1 -c max_connections=300 -c track_commit_timestamp=on -c wal_level=$STACK_PG_WAL_LEVEL -c shared_buffers=$STACK_PG_SHARED_BUFFERS" \
    >/dev/null || { tail -n 25 "$LOG_DIR/postgres.log" >&2; die "postgres did not start; see $LOG_DIR/postgres.log"; }
  record_pid postgres "$(head -n 1 "$PG_DATA/postmaster.pid")"
  wait_healthy postgres 60 pg_healthy
  pg_create_role_and_database
}

# ---------------------------------------------------------------- redis

redis_healthy() { [ "$(redis-cli -h 127.0.0.1 -p "$STACK_REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
  command -v redis-server >/dev/null || die "redis-server is not installed; run: stack/native.sh install"
  require_free_ports redis "$STACK_REDIS_PORT"
  mkdir -p "$STACK_DIR/redis"
  spawn redis redis-server --bind 127.0.0.1 --port "$STACK_REDIS_PORT" --dir "$STACK_DIR/redis" \
    --appendonly yes --save "3600 1 300 100 60 10000" --daemonize no --logfile ""
  wait_healthy redis 30 redis_healthy
}

# ---------------------------------------------------------------- kafka

kafka_java() { java -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.yaml" "$@"; }

kafka_configure() {
  mkdir -p "$KAFKA_DIR/data"
  sed -e "s#@KAFKA_PORT@#$STACK_KAFKA_PORT#g" \
    -e "s#@CONTROLLER_PORT@#$STACK_KAFKA_CONTROLLER_PORT#g" \
    -e "s#@DATA_DIR@#$KAFKA_DIR/data#g" \
    "$ROOT/stack/kafka/server.properties.template" >"$KAFKA_DIR/server.properties"
  [ -s "$KAFKA_DIR/cluster-id" ] || kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null |
    tail -n 1 >"$KAFKA_DIR/cluster-id"
  [ -s "$KAFKA_DIR/data/meta.properties" ] && return 0
  say "formatting Kafka storage in $KAFKA_DIR/data"
  kafka_java kafka.tools.StorageTool format --standalone -t "$(cat "$KAFKA_DIR/cluster-id")" \
    -c "$KAFKA_DIR/server.properties" >>"$LOG_DIR/kafka.log" 2>&1 ||
    die "formatting Kafka storage failed; see $LOG_DIR/kafka.log"
}

kafka_healthy() { "$VENV/bin/python" -m common.kafka_admin wait --timeout 2; }

start_kafka() {
  [ -d "$KAFKA_LIBS" ] && [ -x "$VENV/bin/python" ] || die "Kafka is not installed; run: stack/native.sh install"
  require_free_ports kafka "$STACK_KAFKA_PORT" "$STACK_KAFKA_CONTROLLER_PORT"
  kafka_configure
  # shellcheck disable=SC2086
  spawn kafka java ${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -cp "$KAFKA_LIBS/*" \
    -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.yaml" kafka.Kafka "$KAFKA_DIR/server.properties"
  wait_healthy kafka 90 kafka_healthy
}

# ---------------------------------------------------------------- kafka cluster (STACK_KAFKA_NODES=3)

# node i: $STACK_DIR/kafka-<i>/{data,server.properties}; the cluster id and each node's directory
# id live in $STACK_DIR/kafka/ so that every node is formatted with the same initial controllers.
node_dir() { echo "$STACK_DIR/kafka-$1"; }

kafka_directory_id() {
  local file="$KAFKA_DIR/directory-id-$1"
  [ -s "$file" ] || kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$file"
  cat "$file"
}

initial_controllers() {
  local i list=""
  for ((i = 1; i <= STACK_KAFKA_NODES; i++)); do
    list="${list:+$list,}$i@127.0.0.1:$(kafka_controller_port "$i"):$(kafka_directory_id "$i")"
  done
  echo "$list"
}

kafka_node_configure() {
  local i="$1" dir servers="" n
  dir="$(node_dir "$i")"
  mkdir -p "$dir/data" "$KAFKA_DIR"
  for ((n = 1; n <= STACK_KAFKA_NODES; n++)); do
    servers="${servers:+$servers,}127.0.0.1:$(kafka_controller_port "$n")"
  done
  sed -e "s#@NODE_ID@#$i#g" -e "s#@KAFKA_PORT@#$(kafka_node_port "$i")#g" \
    -e "s#@CONTROLLER_PORT@#$(kafka_controller_port "$i")#g" -e "s#@CONTROLLER_SERVERS@#$servers#g" \
    -e "s#@DATA_DIR@#$dir/data#g" "$ROOT/stack/kafka/cluster-node.properties.template" >"$dir/server.properties"
  [ -s "$KAFKA_DIR/cluster-id" ] || kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null |
    tail -n 1 >"$KAFKA_DIR/cluster-id"
  [ -s "$dir/data/meta.properties" ] && return 0
  say "formatting Kafka storage of node $i in $dir/data"
  kafka_java kafka.tools.StorageTool format -t "$(cat "$KAFKA_DIR/cluster-id")" -c "$dir/server.properties" \
    --initial-controllers "$(initial_controllers)" >>"$LOG_DIR/kafka-$i.log" 2>&1 ||
    die "formatting Kafka storage of node $i failed; see $LOG_DIR/kafka-$i.log"
  # the node's own directory id must be the one named in --initial-controllers
  grep -qx "directory.id=$(kafka_directory_id "$i")" "$dir/data/meta.properties" ||
    die "node $i was formatted with another directory id than $KAFKA_DIR/directory-id-$i"
}

# Each node gets its own JVM; 3 x 512 MiB heap fit beside PostgreSQL, Redis and the services.
spawn_kafka_node() {
  local i="$1"
  # shellcheck disable=SC2086
  spawn "kafka-$i" java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:ActiveProcessorCount=2 -Djava.awt.headless=true -cp "$KAFKA_LIBS/*" \
    -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.yaml" kafka.Kafka "$(node_dir "$i")/server.properties"
}

# Node i answers on its own port and the cluster lists it as an unfenced broker.
kafka_node_healthy() {
  "$VENV/bin/python" -m common.kafka_admin wait --brokers "127.0.0.1:$(kafka_node_port "$1")" --node-id "$1" --timeout 2
}

# Starts the given nodes (those not running) together: a fresh cluster elects its first controller
# only once a majority of the nodes is up, so they are spawned before any is awaited.
start_kafka_nodes() {
  [ -d "$KAFKA_LIBS" ] && [ -x "$VENV/bin/python" ] || die "Kafka is not installed; run: stack/native.sh install"
  local i pid spawned=()
  for i in "$@"; do
    if pid="$(running_pid "kafka-$i")"; then
      say "kafka-$i already running (pid $pid)"
      continue
    fi
    forget_pid "kafka-$i"
    require_free_ports "kafka-$i" "$(kafka_node_port "$i")" "$(kafka_controller_port "$i")"
    kafka_node_configure "$i"
    say "starting kafka-$i"
    spawn_kafka_node "$i"
    spawned+=("$i")
  done
  for i in "${spawned[@]}"; do
    wait_healthy "kafka-$i" 120 kafka_node_healthy "$i"
    say "kafka-$i healthy (pid $(cat "$(pid_file "kafka-$i")"), 127.0.0.1:$(kafka_node_port "$i"))"
  done
  [ "${#spawned[@]}" -eq 0 ] || wait_cluster
}

# Every running node an unfenced broker and a caught-up voter of the metadata quorum.
wait_cluster() {
  local name running=0
  for name in "${KAFKA_NODES[@]}"; do running_pid "$name" >/dev/null && running=$((running + 1)); done
  "$VENV/bin/python" -m common.kafka_admin wait --nodes "$running" --timeout 120 >/dev/null ||
    die "the Kafka cluster did not form within 120s; see $LOG_DIR/kafka-*.log"
}

create_topics() { "$VENV/bin/python" -m common.kafka_admin create-topics --nodes "$STACK_KAFKA_NODES"; }

# ---------------------------------------------------------------- services

api_healthy() { http_ok "http://127.0.0.1:$API_PORT/readyz"; }
relay_healthy() { http_ok "http://127.0.0.1:$RELAY_METRICS_PORT/metrics"; }
worker_healthy() { http_ok "http://127.0.0.1:$WORKER_METRICS_PORT/metrics"; }

start_service() {
  local name="$1" port="$2" check="$3"
  [ -x "$VENV/bin/$name" ] || die "$VENV/bin/$name not found; run: stack/native.sh install"
  require_free_ports "$name" "$port"
  spawn "$name" env API_PORT="$API_PORT" RELAY_METRICS_PORT="$RELAY_METRICS_PORT" \
    WORKER_METRICS_PORT="$WORKER_METRICS_PORT" RELAY_METRICS_HOST=127.0.0.1 \
    WORKER_METRICS_HOST=127.0.0.1 "$VENV/bin/$name"
  wait_healthy "$name" 60 "$check"
}

# ---------------------------------------------------------------- prometheus (make observe)

PROMETHEUS_DIR="$STACK_DIR/prometheus"

prometheus_healthy() { http_ok "http://127.0.0.1:$STACK_PROMETHEUS_PORT/-/ready"; }

# ops/prometheus as it is, but for the targets: this stack's services on 127.0.0.1.
prometheus_configure() {
  mkdir -p "$PROMETHEUS_DIR/targets" "$PROMETHEUS_DIR/data"
  cp "$ROOT/ops/prometheus/prometheus.yml" "$ROOT/ops/prometheus/rules.yml" "$PROMETHEUS_DIR/"
  local job
  for job in order-api outbox-relay platform-worker; do
    printf '[{"targets": ["127.0.0.1:%s"]}]\n' "$(port_of "$job")" >"$PROMETHEUS_DIR/targets/$job.json"
  done
}

start_prometheus() {
  command -v prometheus >/dev/null || die "prometheus is not installed; run: stack/native.sh install"
  require_free_ports prometheus "$STACK_PROMETHEUS_PORT"
  prometheus_configure
  spawn prometheus prometheus --config.file="$PROMETHEUS_DIR/prometheus.yml" \
    --storage.tsdb.path="$PROMETHEUS_DIR/data" --storage.tsdb.retention.time=7d \
    --web.listen-address="127.0.0.1:$STACK_PROMETHEUS_PORT"
  wait_healthy prometheus 60 prometheus_healthy
}

# ---------------------------------------------------------------- start, stop, status

port_of() {
  case "$1" in
    postgres) echo "$STACK_PG_PORT" ;;
    redis) echo "$STACK_REDIS_PORT" ;;
    kafka) echo "$STACK_KAFKA_PORT" ;;
    kafka-*) kafka_node_port "${1#kafka-}" ;;
    order-api) echo "$API_PORT" ;;
    outbox-relay) echo "$RELAY_METRICS_PORT" ;;
    platform-worker) echo "$WORKER_METRICS_PORT" ;;
    prometheus) echo "$STACK_PROMETHEUS_PORT" ;;
  esac
}

known() {
  local name
  for name in "${ALL[@]}"; do [ "$name" = "$1" ] && return 0; done
  [ "$1" = kafka ] && return 0 # all nodes of a cluster
  die "unknown component '${1:-}' (STACK_KAFKA_NODES=$STACK_KAFKA_NODES); one of: ${ALL[*]}"
}

cmd_start() {
  local name="$1" pid
  known "$name"
  if [ "$STACK_KAFKA_NODES" -gt 1 ]; then
    case "$name" in
      kafka) start_kafka_nodes $(seq "$STACK_KAFKA_NODES"); return 0 ;;
      kafka-*) start_kafka_nodes "${name#kafka-}"; return 0 ;;
    esac
  fi
  if pid="$(running_pid "$name")"; then
    say "$name already running (pid $pid)"
    # a PostgreSQL started by an older checkout gets what this one's migrations need (pg_partman)
    if [ "$name" = postgres ]; then pg_create_role_and_database; fi
    return 0
  fi
  forget_pid "$name"
  say "starting $name"
  case "$name" in
    postgres) start_postgres ;;
    redis) start_redis ;;
    kafka) start_kafka ;;
    order-api) start_service order-api "$API_PORT" api_healthy ;;
    outbox-relay) start_service outbox-relay "$RELAY_METRICS_PORT" relay_healthy ;;
    platform-worker) start_service platform-worker "$WORKER_METRICS_PORT" worker_healthy ;;
    prometheus) start_prometheus ;;
  esac
  say "$name healthy (pid $(cat "$(pid_file "$name")"), 127.0.0.1:$(port_of "$name"))"
}

cmd_stop() {
  local name="$1"
  known "$name"
  if [ "$name" = kafka ] && [ "$STACK_KAFKA_NODES" -gt 1 ]; then
    stop_together "${KAFKA_NODES[@]}"
  else
    stop_together "$name"
  fi
}

# Signals every named component at once, then waits for each (SIGKILL after its timeout). The
# nodes of a cluster are stopped together so that each one's controlled shutdown still finds a
# controller quorum; stopped one by one, the last would wait for a quorum that is gone.
stop_together() {
  local i name pid signal timeout deadline names=() pids=()
  for name in "$@"; do
    if ! pid="$(running_pid "$name")"; then
      forget_pid "$name"
      say "$name not running"
      continue
    fi
    signal=TERM
    # SIGTERM is postgres' "smart" shutdown, which waits for every client to leave; SIGINT is "fast".
    [ "$name" = postgres ] && signal=INT
    say "stopping $name (pid $pid, SIG$signal)"
    kill -s "$signal" "$pid" 2>/dev/null || true
    names+=("$name") pids+=("$pid")
  done
  for i in "${!names[@]}"; do
    name="${names[$i]}" pid="${pids[$i]}" timeout=30
    case "$name" in postgres | kafka*) timeout=60 ;; esac
    deadline=$((SECONDS + timeout))
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if alive "$pid"; then
      say "$name still running after ${timeout}s: SIGKILL"
      kill -s KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.1; done
    fi
    forget_pid "$name"
  done
}

# Fault injection: SIGKILL, no shutdown of any kind (the pid file goes, the data stays).
cmd_kill() {
  local name="$1" pid
  known "$name"
  if ! pid="$(running_pid "$name")"; then
    die "$name is not running"
  fi
  say "killing $name (pid $pid, SIGKILL)"
  kill -s KILL "$pid"
  while alive "$pid"; do sleep 0.1; done
  forget_pid "$name"
}

cmd_status() {
  local name pid
  for name in "${ALL[@]}"; do
    if pid="$(running_pid "$name")"; then
      printf '%-16s running  pid %-8s 127.0.0.1:%s\n' "$name" "$pid" "$(port_of "$name")"
    else
      printf '%-16s stopped\n' "$name"
    fi
  done
}

# ---------------------------------------------------------------- composite commands

cmd_infra() {
  cmd_install
  local name
  for name in "${INFRA[@]}"; do cmd_start "$name"; done
  create_topics
}

cmd_migrate() {
  cmd_start postgres
  say "alembic upgrade head"
  (cd "$ROOT" && "$VENV/bin/alembic" upgrade head)
}

cmd_seed() {
  cmd_start postgres
  say "loading demo data"
  (cd "$ROOT" && "$VENV/bin/python" -m order_api.seed)
}

cmd_up() {
  cmd_infra
  cmd_migrate
  cmd_seed
  local name
  for name in "${SERVICES[@]}"; do cmd_start "$name"; done
  cat <<EOF

The stack is up (native; state in $STACK_DIR).
  API            http://127.0.0.1:$API_PORT   (OpenAPI: http://127.0.0.1:$API_PORT/openapi.json)
  relay metrics  http://127.0.0.1:$RELAY_METRICS_PORT/metrics
  worker metrics http://127.0.0.1:$WORKER_METRICS_PORT/metrics
  PostgreSQL     $DATABASE_URL
  Kafka          $KAFKA_BROKERS      Redis $REDIS_URL
  logs           $LOG_DIR/<name>.log
  status / stop  make status · make down (data stays) · make stop-<name> / make start-<name>
EOF
}

cmd_observe() {
  cmd_install
  cmd_start prometheus
  cat <<EOF

Prometheus scrapes the native stack: http://127.0.0.1:$STACK_PROMETHEUS_PORT
  alerts         http://127.0.0.1:$STACK_PROMETHEUS_PORT/alerts   (rules: ops/prometheus/rules.yml)
  targets        http://127.0.0.1:$STACK_PROMETHEUS_PORT/targets
  dashboard      ops/grafana/dashboards/outbox-pipeline.json (Grafana itself runs with Docker only)
  stop           make stop-prometheus (make down stops it too)
EOF
}

cmd_down() {
  local i name leftovers=()
  cmd_stop prometheus
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do cmd_stop "${SERVICES[$i]}"; done
  # a node of the other STACK_KAFKA_NODES setting still running is stopped too
  for name in kafka kafka-1 kafka-2 kafka-3; do
    running_pid "$name" >/dev/null && leftovers+=("$name")
  done
  [ "${#leftovers[@]}" -eq 0 ] || stop_together "${leftovers[@]}"
  cmd_stop redis
  cmd_stop postgres
}

main() {
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  local command="${1:-}"
  shift || true
  case "$command" in
    install) cmd_install ;;
    infra) cmd_infra ;;
    migrate) cmd_migrate ;;
    seed) cmd_seed ;;
    up) cmd_up ;;
    observe) cmd_observe ;;
    down) cmd_down ;;
    status) cmd_status ;;
    start) cmd_start "${1:-}" ;;
    stop) cmd_stop "${1:-}" ;;
    kill) cmd_kill "${1:-}" ;;
    run) exec "$@" ;;
    *) die "usage: $0 install|infra|migrate|seed|up|observe|down|status|start <name>|stop <name>|kill <name>|run <command...>" ;;
  esac
}

main "$@"
