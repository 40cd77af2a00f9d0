"""The README's settings table names every environment variable the three services read."""
import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from order_api.config import Settings as ApiSettings
from outbox_relay.config import Settings as RelaySettings
from platform_worker.config import WorkerSettings

README = Path(__file__).resolve().parents[2] / "README.md"


def environment_names(settings: type[BaseSettings], with_old_names: bool = False) -> list[str]:
    """Each setting's name; `with_old_names` adds the names kept as aliases for one release."""
    prefix = settings.model_config.get("env_prefix", "")
    names = []
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if alias is None:
            names.append(f"{prefix}{field_name}".upper())
        elif isinstance(alias, str):
            names.append(alias)
        else:
            names.extend(alias.choices if with_old_names else alias.choices[:1])
    return names


@pytest.mark.parametrize("settings", [ApiSettings, RelaySettings, WorkerSettings])
def test_every_setting_is_documented_in_the_readme(settings):
    readme = README.read_text()

    missing = [name for name in environment_names(settings) if f"`{name}`" not in readme]

    assert missing == []


def test_the_readme_documents_no_setting_that_does_not_exist():
    known = {
        name
        for settings in (ApiSettings, RelaySettings, WorkerSettings)
        for name in environment_names(settings, with_old_names=True)
    }
    documented = set(re.findall(r"`((?:API|RELAY|WORKER)_[A-Z_]+)`", README.read_text()))

    assert documented - known == set()
