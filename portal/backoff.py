"""Retry delays: exponential backoff with jitter, for every job that talks to a server."""

import datetime
import random


def backoff(
    attempts: int, *, first: datetime.timedelta, cap: datetime.timedelta, jitter: float = 0.2
) -> datetime.timedelta:
    """The wait before the next attempt after `attempts` failed ones: `first`, doubling
    each time up to `cap`, stretched by up to `jitter` (a share) so that jobs which failed
    together do not all come back together."""
    base = min(first * 2 ** max(attempts - 1, 0), cap)
    return base * random.uniform(1.0, 1.0 + jitter)
