"""Configuration, read once from the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Server = Literal["MongoDB", "Redis"]

#: the root of the repository (an editable install): where `make setup` installs what it installs
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: what `marketing-contacts dev` writes in VAR_DIR while it runs: its servers' addresses
DEV_ENV_FILE = "dev.env"
#: the variables dev.env holds, and the server each one addresses
DEV_ENV_VARIABLES = ("MONGODB_URI", "MONGODB_DATABASE", "REDIS_URL")
ADDRESS_VARIABLE: dict[Server, str] = {"MongoDB": "MONGODB_URI", "Redis": "REDIS_URL"}


class Settings(BaseSettings):
    """Every setting maps to the environment variable of the same name in upper case."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    mongodb_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongodb_database: str = "marketing_contacts"
    # how long a request waits for a reachable MongoDB before it fails (503 / UNAVAILABLE);
    # PyMongo's own default is 30 s. Long enough for a replica-set election.
    mongodb_timeout_seconds: float = Field(default=10, gt=0)
    redis_url: str = "redis://127.0.0.1:6379/0"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    environment: Environment = "development"
    log_level: LogLevel = "INFO"
    # Empty: no CORS headers (same-origin only; any origin is fine for local development).
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    var_dir: Path = Path("./var")
    # minutes between scheduled update-date runs; a divisor of 60, so the runs stay evenly spaced
    # across the hour boundary (they fire at the minutes that are multiples of it)
    update_date_interval_minutes: int = Field(default=5, ge=1, le=60)
    bulk_chunk_size: int = Field(default=500, ge=1)
    # a worker holds a bulk operation this long past its last chunk; then another may resume it
    bulk_lease_seconds: float = Field(default=60, gt=0)
    # one turn of an account's bulk operations: at most this many pages, begun within this
    # many seconds; then the account's next turn waits behind the other accounts' work
    bulk_turn_pages: int = Field(default=20, ge=1)
    bulk_turn_seconds: float = Field(default=10, gt=0)
    # jobs one worker process runs at once (arq's max_jobs); an account holds at most one
    worker_max_jobs: int = Field(default=10, ge=1)
    # P5: requests (HTTP requests and WebSocket subscribes) one token may make per window, across
    # every API process (a burst of that many, then a steady rate of requests / window)
    rate_limit_requests: int = Field(default=150, ge=1)
    rate_limit_window_seconds: float = Field(default=10, gt=0)
    # P5: WebSockets one token holds open on one API process, and subscriptions one socket runs
    max_sockets_per_token: int = Field(default=10, ge=1)
    max_subscriptions_per_socket: int = Field(default=20, ge=1)
    # P5: background operations (bulk changes) an account has queued or running at once
    max_active_background_operations: int = Field(default=5, ge=1)
    # I1: the largest CSV file startImport takes (a multipart upload; other bodies stay 1 MB)
    import_max_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    # C6: engagements one record (a contact, a company, a deal) is associated with at most;
    # past it, new engagements are created without the association
    engagements_per_record_limit: int = Field(default=10_000, ge=1)
    # Ports of the local servers that `marketing-contacts dev` starts (DEV_MONGO_PORT, ...).
    dev_mongo_port: int = Field(default=27017, ge=1, le=65535)
    dev_redis_port: int = Field(default=6379, ge=1, le=65535)
    # GraphiQL's browser files (graphiql, react, react-dom), which `make setup` installs
    graphiql_assets_dir: Path = PROJECT_ROOT / "graphiql" / "node_modules"
    # development only: the token GraphiQL's headers open with (`dev` sets the demo account's)
    graphiql_token: SecretStr | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("update_date_interval_minutes")
    @classmethod
    def _divides_the_hour(cls, value: int) -> int:
        if 60 % value:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)")
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated string or a JSON list (`["https://a", "https://b"]`)."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [origin.strip() for origin in text.split(",") if origin.strip()]

    @field_validator("rate_limit_window_seconds")
    @classmethod
    def _a_microsecond_a_request(cls, value: float, info: ValidationInfo) -> float:
        requests = info.data.get("rate_limit_requests", 1)
        if int(value * 1_000_000) < requests:
            raise ValueError("must leave at least a microsecond per request")
        return value

    @property
    def graphiql_enabled(self) -> bool:
        return self.environment == "development"

    @property
    def dev_env_path(self) -> Path:
        return self.var_dir / DEV_ENV_FILE

    def address_of(self, server: Server) -> str:
        return self.mongodb_uri if server == "MongoDB" else self.redis_url


@cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use. In development, what the
    environment does not set of MONGODB_URI, MONGODB_DATABASE and REDIS_URL comes from
    VAR_DIR/dev.env, which `marketing-contacts dev` writes while it runs: a command in another
    terminal works on the running stack's servers."""
    settings = Settings()
    if settings.environment == "development" and settings.dev_env_path.is_file():
        return Settings(_env_file=settings.dev_env_path)
    return settings


def dev_env_text(settings: Settings) -> str:
    """dev.env for the stack these settings address."""
    values = (settings.mongodb_uri, settings.mongodb_database, settings.redis_url)
    lines = [f"{name}={value}" for name, value in zip(DEV_ENV_VARIABLES, values, strict=True)]
    header = "# written by `marketing-contacts dev` while it runs; the environment wins over it"
    return "\n".join([header, *lines, ""])


def without_password(address: str) -> str:
    """The address with its password, if it has one, masked: fit to print."""
    parts = urlsplit(address)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not at or not colon:
        return address
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hosts}"))


def _sets(env_file: Path, variable: str) -> bool:
    if not env_file.is_file():
        return False
    return any(line.startswith(f"{variable}=") for line in env_file.read_text().splitlines())


def unreachable_message(
    server: Server,
    settings: Settings,
    environ: Mapping[str, str] = os.environ,
    otherwise: str | None = None,
) -> str:
    """One line for a command that could not reach a server: what it tried, from where, and
    what to set (or `otherwise` do)."""
    variable = ADDRESS_VARIABLE[server]
    otherwise = otherwise or (
        "start the local stack with `marketing-contacts dev` "
        f"(it writes its servers' addresses to {settings.dev_env_path})"
    )
    if any(name.upper() == variable for name in environ):
        origin = f"{variable} from the environment"
    elif _sets(settings.dev_env_path, variable):
        origin = f"{variable} from {settings.dev_env_path}"
    else:
        origin = f"the default: {variable} is not set"
    return (
        f"error: cannot reach {server} at {without_password(settings.address_of(server))} "
        f"({origin}): set {variable} to a {server} that answers, or {otherwise}"
    )
