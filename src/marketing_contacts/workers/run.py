"""Running the arq worker so that losing Redis never ends it.

Most of the worker's Redis commands wait out an outage on their own (redis_patience),
but arq's job pick-up runs in a watched transaction, which redis cannot retry: losing Redis there
ends arq's main loop. The worker then finishes its running jobs, waits for Redis to clean up,
and starts polling again. Told to stop (SIGTERM, SIGINT), it stops, Redis or not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from arq.worker import Worker, get_kwargs
from redis.exceptions import WatchError

from marketing_contacts.workers.redis_patience import REDIS_AWAY, REDIS_PATIENCE
from marketing_contacts.workers.settings import WorkerSettings

log = logging.getLogger(__name__)

#: what losing Redis looks like from inside arq (a connection lost while arq watches a job's
#: keys reaches it as a WatchError; arq handles the ordinary WatchError of a race itself)
REDIS_LOST: tuple[type[Exception], ...] = (*REDIS_AWAY, WatchError)
RESTART_PAUSE_SECONDS = 1.0


class StoppableWorker(Worker):
    """arq's worker, whose close survives the jobs its stop cancelled.

    A stop cancels the running jobs, and arq's close then gathers them: a job cancelled while
    it was recording its result (a Redis call waiting out an outage) ends in CancelledError,
    which escaped the close and ended the worker with a traceback, the close half done.
    """

    async def close(self) -> None:
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self.tasks.clear()  # each has ended, as a job does when stopped: arq runs it again
        await super().close()


def run_until_stopped() -> int:
    """Run arq's worker until a signal stops it; the exit code (1: stopped without Redis)."""
    while True:
        options: dict[str, Any] = get_kwargs(WorkerSettings)  # arq types the values oddly
        worker = StoppableWorker(**options)
        worker.on_stop = lambda _signal: REDIS_PATIENCE.stop_waiting()
        try:
            worker.run()
            return 0
        except REDIS_LOST as error:
            if not REDIS_PATIENCE.waiting:
                log.warning("worker stopped without Redis: %s", error)
                return 1
            log.warning("the worker lost Redis (%s); it polls again", error)
            time.sleep(RESTART_PAUSE_SECONDS)
