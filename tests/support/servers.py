"""Throwaway servers for a test session, and names that keep test modules apart."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import (
    IN_MEMORY,
    MongoServer,
    RedisServer,
    start_mongo,
    start_redis,
)

MAX_DATABASE_NAME_LENGTH = 63  # MongoDB allows fewer than 64 bytes


def start_test_mongo(work_dir: Path) -> MongoServer:
    """SecantusDB on a fresh free port, in memory; its log in `work_dir`."""
    return start_mongo(
        port=free_port(), storage_path=IN_MEMORY, log_path=work_dir / "secantusd.log"
    )


def start_test_redis(work_dir: Path) -> RedisServer:
    """redis-server on a fresh free port, without persistence; its files in `work_dir`."""
    return start_redis(
        port=free_port(),
        data_dir=work_dir / "redis",
        persistent=False,
        log_path=work_dir / "redis.log",
    )


def unique_database_name(module_name: str) -> str:
    """`t_<module>_<random>`: readable in logs, unique per call, valid for MongoDB."""
    suffix = uuid.uuid4().hex[:8]
    stem = re.sub(r"[^A-Za-z0-9_]", "_", module_name.rsplit(".", 1)[-1])
    stem = stem[: MAX_DATABASE_NAME_LENGTH - len(suffix) - 3]
    return f"t_{stem}_{suffix}"
