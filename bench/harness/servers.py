"""The servers a benchmark runs on: SecantusDB in memory and a throwaway Redis, on free ports."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import IN_MEMORY, start_mongo, start_redis


def run_on_servers(prefix: str, run: Callable[[str, str], Coroutine[Any, Any, None]]) -> int:
    """`run(mongo_uri, redis_url)` on servers of its own, stopped after it (exit status 0)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as work:
        work_dir = Path(work)
        mongo = start_mongo(
            port=free_port(), storage_path=IN_MEMORY, log_path=work_dir / "secantusd.log"
        )
        try:
            redis = start_redis(
                port=free_port(),
                data_dir=work_dir / "redis",
                persistent=False,
                log_path=work_dir / "redis.log",
            )
            try:
                asyncio.run(run(mongo.uri, redis.url))
            finally:
                redis.stop()
        finally:
            mongo.stop()
    return 0
