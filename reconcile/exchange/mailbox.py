"""A partner connection that reconnects after a transient network error, with bounded back-off."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from reconcile.exchange.config import Partner
from reconcile.exchange.transport import TransientError, Transport, open_transport

T = TypeVar("T")
RETRIES = 3  # further tries after the first, per operation
BACKOFF_S = (1.0, 4.0, 10.0)  # pause before the 1st, 2nd, 3rd retry (the last repeats)
Opener = Callable[[Partner], Transport]


class Mailbox:
    """Runs operations on a partner's transport; a transient error closes the connection, waits,
    reconnects and tries again, at most ``retries`` more times; other errors pass through."""

    def __init__(
        self,
        partner: Partner,
        opener: Opener = open_transport,
        retries: int = RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.partner = partner
        self.opener = opener
        self.retries = retries
        self.sleep = sleep
        self._t: Transport | None = None
        self.retried = 0

    def _transport(self) -> Transport:
        if self._t is None:
            self._t = self.opener(self.partner)
        return self._t

    @property
    def connected(self) -> bool:
        return self._t is not None

    def drop(self) -> None:
        if self._t is not None:
            try:
                self._t.close()
            except Exception:
                pass
            self._t = None

    def run(self, fn: Callable[[Transport], T], before_retry: Callable[[], None] | None = None) -> T:
        attempt = 0
        while True:
            try:
                return fn(self._transport())
            except TransientError:
                self.drop()
                if attempt >= self.retries:
                    raise
                self.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
                attempt += 1
                self.retried += 1
                if before_retry is not None:
                    before_retry()

    def close(self) -> None:
        self.drop()
