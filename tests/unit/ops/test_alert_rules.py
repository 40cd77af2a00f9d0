"""The alerting rules and the scrape configuration in ops/prometheus, checked by Prometheus' own promtool."""
import shutil
import subprocess
from pathlib import Path

OPS = Path(__file__).resolve().parents[3] / "ops" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess:
    assert shutil.which("promtool"), "promtool missing: stack/native.sh install brings Debian's prometheus package"
    return subprocess.run(["promtool", *args], cwd=OPS, capture_output=True, text=True, timeout=60)


def test_every_alert_fires_when_it_should_and_stays_quiet_otherwise():
    result = promtool("test", "rules", "rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_scrape_configuration_and_its_rules_are_valid():
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_of_the_rules_file_has_a_test():
    rules = (OPS / "rules.yml").read_text()
    tests = (OPS / "rules.test.yml").read_text()
    alerts = [line.split(":", 1)[1].strip() for line in rules.splitlines() if line.strip().startswith("- alert:")]
    assert alerts
    untested = [alert for alert in alerts if f"alertname: {alert}" not in tests]
    assert not untested
