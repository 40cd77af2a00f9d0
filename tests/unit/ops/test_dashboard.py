"""The provisioned Grafana dashboard is well formed and points at the provisioned data source."""
import json
from pathlib import Path

import yaml

GRAFANA = Path(__file__).resolve().parents[3] / "ops" / "grafana"


def dashboards() -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((GRAFANA / "dashboards").glob("*.json"))]


def test_every_panel_queries_the_provisioned_prometheus():
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"]
    uids = {source["uid"] for source in sources if source["type"] == "prometheus"}
    panels = [panel for dashboard in dashboards() for panel in dashboard["panels"]]
    assert panels
    for panel in panels:
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), panel["title"]


def test_panels_have_unique_ids_and_do_not_overlap():
    for dashboard in dashboards():
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids))
        cells = set()
        for panel in dashboard["panels"]:
            box = panel["gridPos"]
            covered = {(x, y) for x in range(box["x"], box["x"] + box["w"]) for y in range(box["y"], box["y"] + box["h"])}
            assert not cells & covered, panel["title"]
            assert box["x"] + box["w"] <= 24
            cells |= covered


def test_the_dashboard_shows_what_an_operator_asks_first():
    exprs = " ".join(target["expr"] for d in dashboards() for panel in d["panels"] for target in panel["targets"])
    for metric in ("outbox_relay_pending_rows", "outbox_relay_oldest_pending_age_seconds", "outbox_relay_published_total",
                   "worker_consumer_lag_seconds", "worker_end_to_end_latency_seconds_bucket", "dead_lettered",
                   "api_http_request_duration_seconds_bucket"):
        assert metric in exprs
