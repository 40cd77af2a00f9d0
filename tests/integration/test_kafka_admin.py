import pytest

from common.kafka_admin import delete_topics, ensure_topics, topics_with_prefix


def test_delete_topics_removes_exactly_the_topics_with_the_prefix(test_env, kafka_topic_prefix):
    prefix = f"{kafka_topic_prefix}.admin-"
    ensure_topics(test_env.kafka_brokers, [(f"{prefix}a", 1), (f"{prefix}b", 2), (f"{kafka_topic_prefix}.kept", 1)])

    assert delete_topics(test_env.kafka_brokers, prefix) == [f"{prefix}a", f"{prefix}b"]
    assert topics_with_prefix(test_env.kafka_brokers, prefix) == []
    assert topics_with_prefix(test_env.kafka_brokers, f"{kafka_topic_prefix}.kept") == [f"{kafka_topic_prefix}.kept"]


def test_delete_topics_refuses_an_empty_prefix_and_deletes_nothing(test_env, kafka_topic_prefix):
    ensure_topics(test_env.kafka_brokers, [(f"{kafka_topic_prefix}.survivor", 1)])
    with pytest.raises(ValueError):
        delete_topics(test_env.kafka_brokers, "")
    assert topics_with_prefix(test_env.kafka_brokers, f"{kafka_topic_prefix}.survivor") == [f"{kafka_topic_prefix}.survivor"]
