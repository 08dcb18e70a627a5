"""Jittered exponential backoff, shared by the GitHub client and the DuckDB lock wait."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before retry `attempt` (0-based): base * factor**attempt, capped, then jittered to
    between half and one and a half times that, so parallel clients do not retry in lockstep."""

    base_s: float
    cap_s: float
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        return min(self.cap_s, self.base_s * self.factor**attempt) * (0.5 + random.random())
