"""The service's own log lines (`marketing_contacts.*`) beside the server's: one handler on
stderr at LOG_LEVEL, added to the logging configuration uvicorn or arq starts with (without it,
INFO lines such as an update date's count were dropped, and warnings came out bare)."""

from __future__ import annotations

import copy
from typing import Any

SERVICE_LOGGER = "marketing_contacts"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def with_service_logs(base: dict[str, Any], level: str) -> dict[str, Any]:
    """`base` (a logging.config.dictConfig dictionary) plus the service's logger at `level`."""
    config = copy.deepcopy(base)
    config.setdefault("formatters", {})["service"] = {"format": FORMAT}
    config.setdefault("handlers", {})["service"] = {
        "class": "logging.StreamHandler",
        "formatter": "service",
        "stream": "ext://sys.stderr",
    }
    config.setdefault("loggers", {})[SERVICE_LOGGER] = {
        "handlers": ["service"],
        "level": level,
        "propagate": False,
    }
    return config
