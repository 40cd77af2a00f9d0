"""Short chaos run: the relay is SIGKILLed under load and restarted; no paid order is lost."""
import json

import pytest

from chaos.runner import QUICK, Infrastructure, run_scenario
from chaos.scenarios import BY_NAME

pytestmark = pytest.mark.slow


def test_no_paid_order_is_lost_when_the_relay_is_killed_mid_load(test_env):
    infra = Infrastructure(test_env.base_database_url, test_env.kafka_brokers, test_env.redis_url)

    result = run_scenario(BY_NAME["relay_sigkill"], QUICK, infra)

    print(json.dumps(result, indent=2, default=str))
    assert result["accepted"] > 0
    assert result["lost"] == 0, result["lost_sample"]
    assert result["accepted_not_paid"] == 0
    assert result["paid_without_outbox_row"] == 0
    assert result["all_delivered_s_after_load_end"] is not None
    assert result["published_not_paid"] == 0 and result["in_redis_not_paid"] == 0
