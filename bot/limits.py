"""A platform's sending limits: a steady pace for all chats together, one message a second per chat,
pauses when the platform says "retry after", and exponential backoff while it answers 5xx.

The pace is a schedule, not a bucket with a burst: each send takes the next slot `1/rate` after the
previous one, so no one-second window ever holds more than `rate` rounded up, and a pause moves every
slot not yet reached. When the event loop runs late and sends bunch up, a sliding one-second window of
the last sends holds them back. Kept in this process: run one broadcaster per bot token, or share the
rate out.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Callable


class Limits:
    def __init__(
        self,
        rate: float,
        per_chat_interval: float = 1.0,
        *,
        max_backoff: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval, self.per_chat, self.max_backoff, self.clock = (
            1 / rate,
            per_chat_interval,
            max_backoff,
            clock,
        )
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.backoff = 0.0
        self.chats: dict[str, float] = {}
        self.window_max = max(math.ceil(rate), 1)
        self.sent: collections.deque[float] = collections.deque(maxlen=self.window_max)
        self.pauses = 0

    async def wait(self, chat: str) -> None:
        """Sleep until this chat may be sent to; then the send may start at once."""
        while True:
            now = self.clock()
            start = max(now, self.next_slot, self.paused_until, self.chats.get(chat, 0.0))
            self.next_slot = start + self.interval
            self.chats[chat] = start + self.per_chat
            if start > now:
                await asyncio.sleep(start - now)
            if self.paused_until <= self.clock():  # no pause began while this send waited
                break
        # When the event loop ran late, sends bunch up: keep any one second within the rate.
        while len(self.sent) == self.window_max and (late := self.sent[0] + 1.0 - self.clock()) > 0:
            await asyncio.sleep(late)
        self.sent.append(self.clock())
        if len(self.chats) > 10_000:
            self._forget_past()

    def pause(self, seconds: float) -> None:
        """The platform said retry after `seconds`: nothing more goes out before then."""
        self.pauses += 1
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def failed(self) -> float:
        """The platform answered 5xx or could not be reached: back off 1, 2, 4 … seconds."""
        self.backoff = min(max(self.backoff * 2, 1.0), self.max_backoff)
        self.pause(self.backoff)
        return self.backoff

    def succeeded(self) -> None:
        self.backoff = 0.0

    def _forget_past(self) -> None:
        now = self.clock()
        self.chats = {chat: moment for chat, moment in self.chats.items() if moment > now}
