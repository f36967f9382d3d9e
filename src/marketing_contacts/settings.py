"""Configuration, read once from the environment."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


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
    # Ports of the local servers that `marketing-contacts dev` starts (DEV_MONGO_PORT, ...).
    dev_mongo_port: int = Field(default=27017, ge=1, le=65535)
    dev_redis_port: int = Field(default=6379, ge=1, le=65535)

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

    @property
    def graphiql_enabled(self) -> bool:
        return self.environment == "development"


@cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
