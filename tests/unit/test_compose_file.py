"""docker-compose.yaml, checked offline (no Docker engine here): against the Compose Specification's
JSON schema as published in the check-jsonschema package, after interpolating variables as Compose
does, with and without the `cluster` profile; and each service receives every setting it reads."""
import json
import re
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml

from order_api.config import Settings as ApiSettings
from outbox_relay.config import Settings as RelaySettings
from platform_worker.config import WorkerSettings
from tests.unit.test_readme_lists_every_setting import environment_names

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yaml"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, ${NAME+alt}, $NAME, $$
_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>(?:[^${}]|\$\{[^}]*\}|\$)*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(ValueError):
    pass


def interpolate(text: str, environment: dict[str, str]) -> str:
    """Compose's interpolation (compose-spec, "Interpolation"); a default may hold one more `${...}`."""
    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        value, op, arg = environment.get(name), match["op"], match["arg"] or ""
        if op == ":-":
            return value if value else interpolate(arg, environment)
        if op == "-":
            return value if value is not None else interpolate(arg, environment)
        if op in (":?", "?"):
            if value is None or (op == ":?" and not value):
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op == ":+":
            return interpolate(arg, environment) if value else ""
        if op == "+":
            return interpolate(arg, environment) if value is not None else ""
        return value or ""

    return _VARIABLE.sub(replace, text)


def interpolated(value, environment):
    if isinstance(value, str):
        return interpolate(value, environment)
    if isinstance(value, list):
        return [interpolated(item, environment) for item in value]
    if isinstance(value, dict):
        return {key: interpolated(item, environment) for key, item in value.items()}
    return value


def compose_model(environment: dict[str, str]) -> dict:
    return interpolated(yaml.safe_load(COMPOSE_FILE.read_text()), environment)


def compose_schema() -> dict:
    return json.loads((files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json").read_text())


ENVIRONMENTS = {
    "defaults": {},
    "moved ports and a managed cluster's settings": {
        "STACK_PG_PORT": "35432", "STACK_KAFKA_PORT": "39092", "API_PORT": "38000", "KAFKA_BROKERS": "b-1:9096",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "RELAY_BATCH_SIZE": "500",
    },
    "the cluster": {"COMPOSE_PROFILES": "cluster", "KAFKA_BROKERS": "kafka-1:19092,kafka-2:19092,kafka-3:19092"},
}


@pytest.mark.parametrize("environment", ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys())
def test_the_compose_file_follows_the_compose_specification(environment):
    jsonschema.Draft7Validator(compose_schema()).validate(compose_model(environment))


def test_interpolation_follows_compose():
    environment = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${EMPTY-d} ${UNSET-d}", environment) == "x d d  d"
    assert interpolate("$SET ${SET} $$SET ${UNSET:-${SET}}", environment) == "x x $SET x"
    with pytest.raises(MissingVariable):
        interpolate("${EMPTY:?needed}", environment)


def test_host_ports_follow_the_native_stacks_variables():
    services = compose_model(ENVIRONMENTS["moved ports and a managed cluster's settings"])["services"]

    assert services["postgres"]["ports"] == ["127.0.0.1:35432:5432"]
    assert services["kafka"]["ports"] == ["127.0.0.1:39092:9092"]
    assert services["order-api"]["ports"] == ["127.0.0.1:38000:8000"]
    assert services["outbox-relay"]["environment"]["KAFKA_BROKERS"] == "b-1:9096"


def test_one_service_builds_the_image_and_the_others_never_pull_it():
    services = compose_model({})["services"]
    ours = {name: service for name, service in services.items() if service.get("image") == "transactional-outbox:dev"}

    builders = [name for name, service in ours.items() if "build" in service]
    assert builders == ["migrate"]
    assert {service["pull_policy"] for name, service in ours.items() if name not in builders} == {"never"}
    assert set(ours) == {"migrate", "kafka-init", "order-api", "outbox-relay", "platform-worker"}


def test_the_cluster_profile_has_three_nodes_with_replication_factor_3_and_min_isr_2():
    services = compose_model(ENVIRONMENTS["the cluster"])["services"]
    nodes = {name: service for name, service in services.items() if "cluster" in service.get("profiles", [])}

    assert sorted(nodes) == ["kafka-1", "kafka-2", "kafka-3"]
    for index, (name, node) in enumerate(sorted(nodes.items()), start=1):
        environment = node["environment"]
        assert environment["KAFKA_NODE_ID"] == index
        assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
        assert environment["KAFKA_DEFAULT_REPLICATION_FACTOR"] == environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 3
        assert environment["KAFKA_MIN_INSYNC_REPLICAS"] == environment["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == 2
    assert len({node["ports"][0] for node in nodes.values()}) == 3


def test_no_healthcheck_starts_a_jvm():
    services = compose_model({})["services"]
    for name in ("kafka", "kafka-1", "kafka-2", "kafka-3"):
        command = " ".join(services[name]["healthcheck"]["test"])
        assert "/opt/kafka/bin" not in command and "java" not in command, name


def test_postgres_is_checked_over_tcp():
    assert "-h 127.0.0.1" in " ".join(compose_model({})["services"]["postgres"]["healthcheck"]["test"])


@pytest.mark.parametrize("service, settings", [
    ("order-api", ApiSettings), ("outbox-relay", RelaySettings), ("platform-worker", WorkerSettings),
])
def test_every_setting_a_service_reads_reaches_its_container(service, settings):
    environment = compose_model({})["services"][service]["environment"]

    assert [name for name in environment_names(settings) if name not in environment] == []


def test_settings_set_where_compose_runs_are_passed_through_and_unset_ones_are_left_out():
    environment = compose_model({})["services"]["outbox-relay"]["environment"]

    assert environment["RELAY_BATCH_SIZE"] is None  # a bare key: Compose takes the value from its own environment
    assert environment["KAFKA_SASL_PASSWORD"] is None
