"""The time seam: every decision that depends on the time reads it from a Clock handed to it."""
import time
from datetime import datetime
from zoneinfo import ZoneInfo


class Clock:
    """The real time."""

    def now(self) -> float:
        return time.time()

    def local(self, zone: ZoneInfo) -> datetime:
        return datetime.fromtimestamp(self.now(), zone)


class ManualClock(Clock):
    """A clock that stands still until told otherwise: tests and the simulator's "send due steps now"."""

    def __init__(self, start: float):
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def set(self, moment: float) -> None:
        self._now = float(moment)

    def advance(self, seconds: float) -> float:
        self._now += seconds
        return self._now
