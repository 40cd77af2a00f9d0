"""Short chaos run: Kafka is stopped under load and started again (stack/native.sh stop|start kafka).

Payments keep succeeding while the broker is down, and every paid order reaches Redis afterwards.
This stops the broker of the environment's stack: run it on a stack of your own when others share it.
"""
import json

import pytest

from chaos.runner import QUICK, Infrastructure, run_scenario
from chaos.scenarios import BY_NAME

pytestmark = pytest.mark.slow


def test_payments_succeed_and_none_is_lost_while_kafka_is_down(test_env):
    infra = Infrastructure(test_env.base_database_url, test_env.kafka_brokers, test_env.redis_url)

    result = run_scenario(BY_NAME["kafka_outage"], QUICK, infra)

    print(json.dumps(result, indent=2, default=str))
    assert result["accepted"] > 0
    assert result["success_rate"] == 1.0, result["refused_by_code"]
    assert result["lost"] == 0, result["lost_sample"]
    assert result["accepted_not_paid"] == 0
    assert result["all_delivered_s_after_load_end"] is not None
    assert result["published_not_paid"] == 0 and result["in_redis_not_paid"] == 0
