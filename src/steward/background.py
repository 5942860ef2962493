"""The background process of `steward serve`: log shipping, monitoring, alerts, webhooks.

Serving workers (role "serve") only answer requests and append to their spool; this one
process per host does everything periodic, so no job ever holds a worker's GIL while requests
wait. Monitoring and alert evaluation are additionally leader-elected in the database, so
several hosts can each run one.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading

from steward.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT, then ship what is left and exit."""
    from steward.monitoring.api import attach
    from steward.state import build_state, start_background, stop_background

    state = build_state(settings.model_copy(update={"role": "background"}))
    monitor = attach(state)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    state.revisions.poll_once()
    state.audit.start()
    # Everything imported and built so far lives as long as the process: keep it out of the
    # collector's sight, so shipping's short-lived objects don't trigger full scans of it.
    gc.freeze()
    start_background(state, monitor)
    log.info("background jobs running (spool shipping, monitoring, webhooks)")
    try:
        stop.wait()
    finally:
        stop_background(state, monitor)
        state.audit.stop()
        state.spool.close()
        state.close()


if __name__ == "__main__":
    logging.basicConfig(level=Settings().log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    run(Settings())
