"""Graceful stop for the long-running workers (`project_events`, `publish_events`)."""

import signal


def stop_requested():
    """Catch SIGTERM and SIGINT; return a function that tells whether one has arrived.

    The workers check it between batches, so a stop finishes the batch in hand first.
    """
    received = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received_signum, _frame: received.append(received_signum))
    return lambda: bool(received)
