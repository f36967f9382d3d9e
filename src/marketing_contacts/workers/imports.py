"""The worker's import jobs (I1): run an import, and sweep imports a lost job or a dead worker
left.

`run_import` is one job per import and attempt (`import:<id>:<attempt>`, workers.queue). It
claims the import under a lease and applies it chunk by chunk (services.imports.ImportRunner);
a transient failure (the database or Redis briefly away, a write conflict) has arq run it again
after a backoff, and the run resumes at the import's cursor; a permanent one ends the import
FAILED with the reason. `sweep_imports` (a cron, and at startup) enqueues the imports persisted
but never queued, and those whose worker died (its lease ran out): a new job resumes them.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from marketing_contacts.domain.imports import ImportStatus
from marketing_contacts.runtime import Runtime

log = logging.getLogger(__name__)
Ctx = dict[str, Any]
MAX_TRIES = 8
#: an import of a million rows runs for minutes: arq's own 5-minute bound would cut it short
JOB_TIMEOUT_SECONDS = 6 * 3600


async def run_import(ctx: Ctx, import_id: str) -> str:
    from marketing_contacts.workers.settings import is_transient  # the worker's one rule

    runtime: Runtime = ctx["runtime"]
    runner = runtime.services.import_runner
    owner = str(ctx["job_id"])
    try:
        done = await runner.run(import_id, owner)
    except Exception as error:
        tries = int(ctx.get("job_try", 1))
        if is_transient(error) and tries < MAX_TRIES:
            log.warning("import %s: transient failure (try %d): %r", import_id, tries, error)
            raise Retry(defer=min(2**tries, 60)) from error
        log.exception("import %s failed", import_id)
        imported = await runtime.services.ports.imports.load(import_id)
        if imported is not None and not imported.status.finished:
            await runtime.services.ports.imports.finish(
                imported,
                ImportStatus.FAILED,
                runtime.services.ports.clock.now(),
                failure=f"{type(error).__name__}: {error}",
            )
            await runtime.services.ports.files.delete(imported.account_id, imported.file_id)
        return "FAILED"
    return "HELD BY ANOTHER RUN" if done is None else done.status.value


async def sweep_imports(ctx: Ctx) -> int:
    """Principle 5: the imports handed to a new job."""
    runtime: Runtime = ctx["runtime"]
    return len(await runtime.services.import_runner.sweep())
