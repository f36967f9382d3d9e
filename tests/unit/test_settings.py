"""Settings come from the environment, with defaults for local development."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketing_contacts.runtime import timeout_options
from marketing_contacts.settings import Settings, dev_env_text, get_settings, without_password

SETTING_VARIABLES = (
    "MONGODB_URI",
    "MONGODB_DATABASE",
    "REDIS_URL",
    "HOST",
    "PORT",
    "ENVIRONMENT",
    "LOG_LEVEL",
    "ALLOWED_ORIGINS",
    "VAR_DIR",
    "UPDATE_DATE_INTERVAL_MINUTES",
    "BULK_CHUNK_SIZE",
    "BULK_TURN_PAGES",
    "BULK_TURN_SECONDS",
    "WORKER_MAX_JOBS",
    "DEV_MONGO_PORT",
    "DEV_REDIS_PORT",
    "GRAPHIQL_TOKEN",
    "GRAPHIQL_ASSETS_DIR",
)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SETTING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_suit_local_development(clean_environment: pytest.MonkeyPatch) -> None:
    settings = Settings()

    assert settings.mongodb_uri == "mongodb://127.0.0.1:27017/?directConnection=true"
    assert settings.mongodb_database == "marketing_contacts"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.environment == "development"
    assert settings.graphiql_enabled
    assert settings.log_level == "INFO"
    assert settings.allowed_origins == []
    assert settings.var_dir == Path("./var")
    assert settings.update_date_interval_minutes == 5
    assert settings.bulk_chunk_size == 500
    assert (settings.bulk_turn_pages, settings.bulk_turn_seconds) == (20, 10)
    assert settings.worker_max_jobs == 10
    assert (settings.dev_mongo_port, settings.dev_redis_port) == (27017, 6379)
    # P5
    assert (settings.rate_limit_requests, settings.rate_limit_window_seconds) == (150, 10)
    assert (settings.max_sockets_per_token, settings.max_subscriptions_per_socket) == (10, 20)
    assert settings.max_active_background_operations == 5


def test_environment_variables_override_defaults(clean_environment: pytest.MonkeyPatch) -> None:
    overrides = {
        "MONGODB_URI": "mongodb://db.example:27018/?replicaSet=rs0",
        "MONGODB_DATABASE": "contacts_prod",
        "REDIS_URL": "redis://cache.example:6380/2",
        "HOST": "0.0.0.0",
        "PORT": "9000",
        "ENVIRONMENT": "production",
        "LOG_LEVEL": "warning",
        "VAR_DIR": "/srv/contacts",
        "UPDATE_DATE_INTERVAL_MINUTES": "15",
        "BULK_CHUNK_SIZE": "1000",
        "BULK_TURN_PAGES": "5",
        "BULK_TURN_SECONDS": "2.5",
        "WORKER_MAX_JOBS": "4",
        "DEV_MONGO_PORT": "37017",
        "DEV_REDIS_PORT": "16379",
    }
    for name, value in overrides.items():
        clean_environment.setenv(name, value)

    settings = Settings()

    assert settings.mongodb_uri == "mongodb://db.example:27018/?replicaSet=rs0"
    assert settings.mongodb_database == "contacts_prod"
    assert settings.redis_url == "redis://cache.example:6380/2"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.environment == "production"
    assert not settings.graphiql_enabled
    assert settings.log_level == "WARNING"
    assert settings.var_dir == Path("/srv/contacts")
    assert settings.update_date_interval_minutes == 15
    assert settings.bulk_chunk_size == 1000
    assert (settings.bulk_turn_pages, settings.bulk_turn_seconds) == (5, 2.5)
    assert settings.worker_max_jobs == 4
    assert (settings.dev_mongo_port, settings.dev_redis_port) == (37017, 16379)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://a.example", ["https://a.example"]),
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example", "https://b.example"]', ["https://a.example", "https://b.example"]),
        ("", []),
    ],
)
def test_allowed_origins_take_a_list_or_commas(
    clean_environment: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    clean_environment.setenv("ALLOWED_ORIGINS", raw)

    assert Settings().allowed_origins == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENVIRONMENT", "staging"),
        ("PORT", "0"),
        ("LOG_LEVEL", "loud"),
        ("BULK_CHUNK_SIZE", "0"),
        ("BULK_TURN_PAGES", "0"),
        ("BULK_TURN_SECONDS", "0"),
        ("WORKER_MAX_JOBS", "0"),
        ("RATE_LIMIT_REQUESTS", "0"),
        ("RATE_LIMIT_WINDOW_SECONDS", "0"),
        ("MAX_SOCKETS_PER_TOKEN", "0"),
        ("MAX_SUBSCRIPTIONS_PER_SOCKET", "0"),
        ("MAX_ACTIVE_BACKGROUND_OPERATIONS", "0"),
        # scheduled runs fire at multiples of the interval within each hour: 7 would leave a
        # 4-minute gap at the hour, 90 would never fire
        ("UPDATE_DATE_INTERVAL_MINUTES", "7"),
        ("UPDATE_DATE_INTERVAL_MINUTES", "90"),
        ("UPDATE_DATE_INTERVAL_MINUTES", "0"),
    ],
)
def test_invalid_values_are_refused(
    clean_environment: pytest.MonkeyPatch, name: str, value: str
) -> None:
    clean_environment.setenv(name, value)

    with pytest.raises(ValueError, match=name.lower()):
        Settings()


def test_p5_a_rate_limit_leaves_at_least_a_microsecond_per_request(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("RATE_LIMIT_REQUESTS", "2000000")
    clean_environment.setenv("RATE_LIMIT_WINDOW_SECONDS", "1")
    with pytest.raises(ValueError, match="rate_limit_window_seconds"):
        Settings()


def test_settings_are_frozen(clean_environment: pytest.MonkeyPatch) -> None:
    settings = Settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


def test_get_settings_reads_once(clean_environment: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        clean_environment.setenv("PORT", "9001")
        first = get_settings()
        clean_environment.setenv("PORT", "9002")

        assert get_settings() is first
        assert first.port == 9001
    finally:
        get_settings.cache_clear()


def test_mongodb_timeout_bounds_server_selection_and_every_operation_unless_the_uri_says() -> None:
    plain = Settings(mongodb_uri="mongodb://db:27017/?directConnection=true")
    assert timeout_options(plain) == {"serverSelectionTimeoutMS": 10_000, "timeoutMS": 10_000}
    short = Settings(mongodb_uri=plain.mongodb_uri, mongodb_timeout_seconds=1.5)
    assert timeout_options(short) == {"serverSelectionTimeoutMS": 1_500, "timeoutMS": 1_500}
    named = Settings(mongodb_uri="mongodb://db:27017/?serverSelectionTimeoutMS=1000")
    assert timeout_options(named) == {"timeoutMS": 10_000}
    both = Settings(mongodb_uri="mongodb://db/?serverSelectionTimeoutMS=1000&timeoutMS=500")
    assert timeout_options(both) == {}


def _dev_env_settings(monkeypatch: pytest.MonkeyPatch, var_dir: Path, **variables: str) -> Settings:
    """get_settings() in a process whose VAR_DIR holds a running dev stack's dev.env."""
    stack = Settings(
        mongodb_uri="mongodb://127.0.0.1:37017/?directConnection=true",
        mongodb_database="dev_data",
        redis_url="redis://127.0.0.1:16379/0",
    )
    (var_dir / "dev.env").write_text(dev_env_text(stack))
    monkeypatch.setenv("VAR_DIR", str(var_dir))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return get_settings()
    finally:
        get_settings.cache_clear()


def test_in_development_dev_env_gives_what_the_environment_does_not_set(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = _dev_env_settings(clean_environment, tmp_path, REDIS_URL="redis://cache:6380/1")

    assert settings.mongodb_uri == "mongodb://127.0.0.1:37017/?directConnection=true"
    assert settings.mongodb_database == "dev_data"
    assert settings.redis_url == "redis://cache:6380/1"  # the environment wins


def test_production_reads_no_dev_env(clean_environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _dev_env_settings(clean_environment, tmp_path, ENVIRONMENT="production")

    assert settings.mongodb_uri == "mongodb://127.0.0.1:27017/?directConnection=true"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("address", "printed"),
    [
        (
            "mongodb://app:s3cret@db1,db2/?replicaSet=rs0",
            "mongodb://app:***@db1,db2/?replicaSet=rs0",
        ),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("mongodb://app@db/", "mongodb://app@db/"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_an_address_is_printed_without_its_password(address: str, printed: str) -> None:
    assert without_password(address) == printed
