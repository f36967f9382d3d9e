"""The worker's export jobs (I6): write an export's file, and sweep expired exports away.

`run_export` is one job per export (`export:<id>`, workers.queue). A transient failure (the
database or Redis briefly away) has arq run it again after a backoff, and a run starts the file
over, so a crash mid-file costs a rewrite and nothing else; a permanent failure, or a transient
one that outlasts the retries, ends the export FAILED with the reason, never a silent stop.
`sweep_exports` is a cron: it deletes the exports whose 7 days are over, with their files (a TTL
index would delete the documents and leave the files), and enqueues exports whose job was lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from arq import Retry

from marketing_contacts.runtime import Runtime

log = logging.getLogger(__name__)
Ctx = dict[str, Any]
#: how often arq runs an export's job before the export is FAILED
MAX_TRIES = 8
FAILURE = "the export stopped on an error it could not recover from; start another"


async def run_export(ctx: Ctx, export_id: str) -> str:
    from marketing_contacts.workers.settings import is_transient  # the worker's one rule

    runtime: Runtime = ctx["runtime"]
    exports = runtime.services.exports
    try:
        done = await exports.run(export_id)
    except Exception as error:
        tries = int(ctx.get("job_try", 1))
        if is_transient(error) and tries < MAX_TRIES:
            log.warning("export %s: transient failure (try %d): %r", export_id, tries, error)
            raise Retry(defer=min(2**tries, 60)) from error
        log.exception("export %s failed", export_id)
        await exports.fail(export_id, FAILURE)
        return "FAILED"
    return "ALREADY FINISHED" if done is None else f"{done.rows} rows"


async def sweep_exports(ctx: Ctx) -> int:
    """I6: expired exports deleted with their files, lost jobs enqueued; the exports deleted."""
    runtime: Runtime = ctx["runtime"]
    swept = await runtime.services.exports.sweep(datetime.now(UTC))
    if swept.requeued:
        log.warning("enqueued %d exports whose job was lost", len(swept.requeued))
    return len(swept.deleted)
