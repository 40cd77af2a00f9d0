"""How every Kafka client of the project reaches the brokers: the shared `KAFKA_*` settings of
DESIGN.md in one model, and `client_options()`, the keyword arguments every KafkaProducer,
KafkaConsumer and KafkaAdminClient is built with.

Guarantees: the settings are read once, with the service's other settings; a bad combination
(a SASL protocol without credentials, credentials or a CA file that the protocol would ignore, an
unknown protocol or mechanism, a CA file that cannot be read as PEM certificates) is refused right
there, at start-up, with a message naming the variable. Passwords never appear in a repr or a log.
"""
import ssl
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common import defaults

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


def parse_brokers(brokers: str | Sequence[str]) -> list[str]:
    """`"a:1, b:2"` -> `["a:1", "b:2"]`; a list is taken as it is."""
    if isinstance(brokers, str):
        return [broker.strip() for broker in brokers.split(",") if broker.strip()]
    return list(brokers)


class KafkaConnection(BaseSettings):
    """The shared Kafka settings; each service's settings class extends it."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)

    kafka_brokers: str = Field(defaults.KAFKA_BROKERS, validation_alias="KAFKA_BROKERS")
    kafka_client_id: str = Field(defaults.KAFKA_CLIENT_ID, validation_alias="KAFKA_CLIENT_ID")
    kafka_security_protocol: SecurityProtocol = Field("PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: SaslMechanism = Field("PLAIN", validation_alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(None, validation_alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(None, validation_alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_cafile: str | None = Field(None, validation_alias="KAFKA_SSL_CAFILE")

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value):
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("kafka_sasl_username", "kafka_ssl_cafile", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _coherent(self) -> "KafkaConnection":
        if not self.brokers:
            raise ValueError("KAFKA_BROKERS names no broker")
        password = self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
        if self.uses_sasl and not (self.kafka_sasl_username and password):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        if not self.uses_sasl and (self.kafka_sasl_username or password):
            raise ValueError(
                f"KAFKA_SASL_USERNAME/PASSWORD are set but KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} "
                "does not use SASL (SASL_PLAINTEXT or SASL_SSL does)"
            )
        if self.kafka_ssl_cafile:
            if not self.uses_ssl:
                raise ValueError(
                    f"KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} "
                    "does not use TLS (SSL or SASL_SSL does)"
                )
            _check_ca_file(self.kafka_ssl_cafile)
        return self

    @property
    def brokers(self) -> list[str]:
        return parse_brokers(self.kafka_brokers)

    @property
    def uses_sasl(self) -> bool:
        return self.kafka_security_protocol.startswith("SASL_")

    @property
    def uses_ssl(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    def client_options(self) -> dict:
        """Where and how to connect: `KafkaProducer(**connection.client_options(), client_id=..., ...)`."""
        options = {"bootstrap_servers": self.brokers, "security_protocol": self.kafka_security_protocol}
        if self.uses_sasl:
            options.update(
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_plain_username=self.kafka_sasl_username,
                sasl_plain_password=self.kafka_sasl_password.get_secret_value(),
            )
        if self.uses_ssl:
            options.update(ssl_check_hostname=True, ssl_cafile=self.kafka_ssl_cafile)
        return options

    def describe(self) -> str:
        """For messages: where and how, never the password."""
        how = self.kafka_security_protocol
        if self.uses_sasl:
            how += f" {self.kafka_sasl_mechanism} as {self.kafka_sasl_username!r}"
        if self.uses_ssl:
            how += f", CA {self.kafka_ssl_cafile or 'system default'}"
        return f"{self.kafka_brokers} ({how})"


def connection_to(target: "str | Sequence[str] | KafkaConnection") -> KafkaConnection:
    """A connection as given, or to these brokers with the environment's security settings."""
    if isinstance(target, KafkaConnection):
        return target
    return KafkaConnection(kafka_brokers=",".join(parse_brokers(target)))


def _check_ca_file(path: str) -> None:
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise ValueError(f"KAFKA_SSL_CAFILE {path}: no such file") from None
    except PermissionError:
        raise ValueError(f"KAFKA_SSL_CAFILE {path}: not readable") from None
    except (ssl.SSLError, IsADirectoryError, OSError) as error:
        raise ValueError(f"KAFKA_SSL_CAFILE {path}: not a PEM certificate bundle ({error})") from None
