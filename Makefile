# The two commands of the README are `make up` and `make test`; the rest are parts of them.
# Without a Docker engine everything runs natively through stack/native.sh (state in .stack/).
SHELL := /bin/bash
NATIVE := stack/native.sh
VENV ?= .venv
PYTEST_ARGS ?=
# kafka-1..3 are the nodes of a cluster (STACK_KAFKA_NODES=3); `kafka` then means all of them.
COMPONENTS := postgres kafka kafka-1 kafka-2 kafka-3 redis order-api outbox-relay platform-worker

.PHONY: up down test bench install infra migrate seed status \
	$(addprefix start-,$(COMPONENTS)) $(addprefix stop-,$(COMPONENTS))

up:
	@if docker info >/dev/null 2>&1; then \
		docker compose up -d --wait && \
		echo "  order API      http://127.0.0.1:$${API_PORT:-8000}   (docs: /openapi.json)" && \
		echo "  relay metrics  http://127.0.0.1:$${RELAY_METRICS_PORT:-9101}/metrics   worker metrics http://127.0.0.1:$${WORKER_METRICS_PORT:-9102}/metrics" && \
		echo "  Kafka UI       http://127.0.0.1:$${KAFKA_UI_PORT:-8080}   Kafka 127.0.0.1:$${STACK_KAFKA_PORT:-9092}" && \
		echo "  logs           docker compose logs -f <service>   status / stop: docker compose ps · make down"; \
	else \
		$(NATIVE) up; \
	fi

down:
	@if docker info >/dev/null 2>&1 && [ -n "$$(docker compose ps -q 2>/dev/null)" ]; then \
		docker compose down; \
	fi
	@$(NATIVE) down

test:
	@$(NATIVE) infra
	@$(NATIVE) run $(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench:
	@$(NATIVE) infra
	@$(NATIVE) run $(VENV)/bin/python -m bench

install infra migrate seed status:
	@$(NATIVE) $@

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
