# The two commands of the README are `make up` and `make test`; the rest are parts of them.
# Without a Docker engine everything runs natively through stack/native.sh (state in .stack/).
SHELL := /bin/bash
NATIVE := stack/native.sh
VENV ?= .venv
PYTEST_ARGS ?=
# kafka-1..3 are the nodes of a cluster (STACK_KAFKA_NODES=3); `kafka` then means all of them.
COMPONENTS := postgres kafka kafka-1 kafka-2 kafka-3 redis order-api outbox-relay platform-worker prometheus

.PHONY: up down test bench install infra migrate seed status observe \
	$(addprefix start-,$(COMPONENTS)) $(addprefix stop-,$(COMPONENTS))

# With a Docker engine: the image is rebuilt on every `up` (a no-op when nothing changed), so a code
# change is never kept stale; STACK_KAFKA_NODES=3 runs the compose file's `cluster` profile.
DOCKER_KAFKA_NODES = $(if $(filter 3,$(STACK_KAFKA_NODES)),cluster,single)
COMPOSE_UP = docker compose up -d --wait --build
ifeq ($(DOCKER_KAFKA_NODES),cluster)
COMPOSE_UP = KAFKA_BROKERS=kafka-1:19092,kafka-2:19092,kafka-3:19092 \
	STACK_KAFKA_PORT_2=$$(( $${STACK_KAFKA_PORT:-9092} + 2 )) STACK_KAFKA_PORT_3=$$(( $${STACK_KAFKA_PORT:-9092} + 4 )) \
	docker compose --profile cluster up -d --wait --build --scale kafka=0
endif

# `make test` beside a running compose stack: the native stack would need the ports compose holds
# (both follow STACK_*_PORT), and the tests stop and start the native broker. Say so, and how to
# run beside it, instead of failing on "port in use".
define refuse_ports_held_by_compose
	@if docker info >/dev/null 2>&1 && [ -n "$$(docker compose --profile cluster ps -q 2>/dev/null)" ]; then \
		held=""; \
		for entry in postgres:5432:$${STACK_PG_PORT:-5432} redis:6379:$${STACK_REDIS_PORT:-6379} \
			kafka:9092:$${STACK_KAFKA_PORT:-9092} kafka-1:9092:$${STACK_KAFKA_PORT:-9092}; do \
			IFS=: read -r service inner port <<<"$$entry"; \
			case "$$(docker compose --profile cluster port "$$service" "$$inner" 2>/dev/null)" in \
				*:"$$port") held="$$held $$service:$$port" ;; \
			esac; \
		done; \
		if [ -n "$$held" ]; then \
			echo "make $@: the Docker stack (docker compose) holds$$held, which the native stack of the tests needs." >&2; \
			echo "  Either 'make down' first, or run the tests beside it on ports of their own, e.g." >&2; \
			echo "  STACK_DIR=.stack-test STACK_PG_PORT=15432 STACK_REDIS_PORT=16379 STACK_KAFKA_PORT=19192 STACK_KAFKA_CONTROLLER_PORT=19193 make $@" >&2; \
			exit 2; \
		fi; \
	fi
endef

up:
	@if docker info >/dev/null 2>&1; then \
		$(COMPOSE_UP) && \
		echo "  order API      http://127.0.0.1:$${API_PORT:-8000}   (docs: /openapi.json)" && \
		echo "  relay metrics  http://127.0.0.1:$${RELAY_METRICS_PORT:-9101}/metrics   worker metrics http://127.0.0.1:$${WORKER_METRICS_PORT:-9102}/metrics" && \
		echo "  Kafka UI       http://127.0.0.1:$${KAFKA_UI_PORT:-8080}   Kafka 127.0.0.1:$${STACK_KAFKA_PORT:-9092}" && \
		echo "  logs           docker compose logs -f <service>   status / stop: docker compose ps · make down"; \
	else \
		$(NATIVE) up; \
	fi

down:
	@if docker info >/dev/null 2>&1 && [ -n "$$(docker compose --profile cluster --profile observe ps -q 2>/dev/null)" ]; then \
		docker compose --profile cluster --profile observe down; \
	fi
	@$(NATIVE) down

test:
	$(refuse_ports_held_by_compose)
	@$(NATIVE) infra
	@$(NATIVE) run $(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench:
	@$(NATIVE) infra
	@$(NATIVE) run $(VENV)/bin/python -m bench

install infra migrate seed status:
	@$(NATIVE) $@

# Prometheus natively (Debian's package); with Docker also Grafana and Jaeger, the services exporting
# their traces to Jaeger.
observe:
	@if docker info >/dev/null 2>&1; then \
		OTEL_TRACES_EXPORTER=$${OTEL_TRACES_EXPORTER:-otlp} OTEL_EXPORTER_OTLP_ENDPOINT=$${OTEL_EXPORTER_OTLP_ENDPOINT:-http://jaeger:4318} \
			docker compose --profile observe up -d --wait --build && \
		echo "  Prometheus http://127.0.0.1:$${STACK_PROMETHEUS_PORT:-9090}   Grafana http://127.0.0.1:$${GRAFANA_PORT:-3000}   Jaeger http://127.0.0.1:$${JAEGER_UI_PORT:-16686}"; \
	else \
		$(NATIVE) observe; \
	fi

$(addprefix start-,$(COMPONENTS)): start-%:
	@$(NATIVE) start $*

$(addprefix stop-,$(COMPONENTS)): stop-%:
	@$(NATIVE) stop $*

# Fault injection over the whole pipeline (chaos/): every scenario under load, results in chaos/results/.
# It stops and starts the stack's Kafka, Redis and PostgreSQL: do not run it on a stack others are using.
CHAOS_ARGS ?=
.PHONY: chaos
chaos:
	@$(NATIVE) infra
	@$(NATIVE) run $(VENV)/bin/python -m chaos $(CHAOS_ARGS)
