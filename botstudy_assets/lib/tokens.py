"""Several GitHub tokens (GITHUB_TOKENS): a run mines with one that has budget left, and a token
that runs out is set aside until its reset while the run goes on with another.

Each token's budget comes from GitHub's `X-RateLimit-*` headers: `GET /rate_limit` (which costs
no quota) when a run starts, then every answer's headers. A run holds one token at a time and,
through `claim`/`release`, one slot of that token's concurrency pool (one Dagster pool per
token, see `defs/mining/tokens.py`), so that however many runs go on, each token serves no more
at once than GitHub advises. Tokens are named by their position in the list (`token 2`), never
by their value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .github import GitHubAuthError

Log = Callable[[str], None]
# A token with this little left is not taken for a new run (a walk's probes need a few).
MIN_BUDGET = 10
POOL_POLL_S = 2.0


class NoTokenError(GitHubAuthError):
    """Every token was refused (401) by GitHub."""


@dataclass
class Budget:
    remaining: int | None = None
    limit: int | None = None
    reset_at: float | None = None  # epoch seconds


def parse_tokens(tokens: str, token: str = "") -> list[str]:
    """GITHUB_TOKENS (comma-separated) and GITHUB_TOKEN, each token once, in that order."""
    listed = [part.strip() for part in tokens.split(",") if part.strip()]
    return list(dict.fromkeys([*listed, *([token.strip()] if token.strip() else [])]))


class TokenPool:
    """The tokens one run may use, and which of them it holds now."""

    def __init__(
        self,
        tokens: list[str],
        api_url: str,
        *,
        claim: Callable[[int], bool] = lambda number: True,
        release: Callable[[int], None] = lambda number: None,
        log: Log = lambda message: None,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = 30.0,
    ) -> None:
        self.tokens, self.api_url = tokens, api_url.rstrip("/")
        self._claim, self._release, self.log, self.sleep = claim, release, log, sleep
        self.timeout_s = timeout_s
        self.budgets = {number: Budget() for number in range(1, len(tokens) + 1)}
        self.aside_until: dict[int, float] = {}
        self.current: int | None = None
        self.swaps = 0
        self._lock = threading.RLock()

    def token(self) -> tuple[int, str]:
        """The token this run mines with (taken on first use): its number and value."""
        with self._lock:
            if self.current is None:
                self.current = self._acquire()
            return self.current, self.tokens[self.current - 1]

    def note(self, number: int, remaining: int, limit: int | None, reset_at: float | None) -> None:
        """What an answer's X-RateLimit-* headers said about token `number`."""
        with self._lock:
            self.budgets[number] = Budget(remaining, limit, reset_at)

    def spent(self, number: int) -> bool:
        """Token `number` ran out: set it aside until its reset and take another. Returns
        whether another token took over (False: this was the only one; wait for its reset)."""
        with self._lock:
            if number != self.current:
                return True  # another thread of this run swapped already
            budget = self.budgets[number]
            self.aside_until[number] = budget.reset_at or time.time() + 60
            if len(self.tokens) == 1:
                return False
            self._release(number)
            self.current = None
            self.log(f"token {number} is out of budget until its reset; taking another")
            self.current = self._acquire()
            self.swaps += 1
            return True

    def close(self) -> None:
        with self._lock:
            if self.current is not None:
                self._release(self.current)
                self.current = None

    def _acquire(self) -> int:
        """A token with budget left whose pool has a free slot; waits while there is none."""
        while True:
            now = time.time()
            for number, until in list(self.aside_until.items()):
                if until <= now:
                    del self.aside_until[number]
            if self.aside_until and all(
                self.aside_until.get(number) == float("inf") for number in self.budgets
            ):
                raise NoTokenError(
                    "GitHub answered 401 (Bad credentials) for every token: GITHUB_TOKENS / "
                    "GITHUB_TOKEN are missing, expired or revoked"
                )
            ready = [number for number in self.budgets if number not in self.aside_until]
            if len(self.tokens) > 1:  # one token leaves no choice: no need to ask its budget
                for number in ready:
                    self._probe(number)
            usable = sorted(
                (n for n in ready if _left(self.budgets[n]) >= MIN_BUDGET),
                key=lambda n: -_left(self.budgets[n]),
            )
            for number in usable:
                if self._claim(number):
                    self.log(
                        f"mining with token {number} of {len(self.tokens)} "
                        f"({self.budgets[number].remaining} requests left)"
                    )
                    return number
            if usable:
                self.sleep(POOL_POLL_S)  # every token with budget is busy in other runs
                continue
            for number in ready:  # below MIN_BUDGET: out until its reset
                self.aside_until[number] = self.budgets[number].reset_at or now + 60
            wake = min(self.aside_until.values(), default=now + 60)
            wait = max(1.0, wake - time.time() + 1.0)
            self.log(f"every token is out of budget; waiting {wait:.0f} s for the first reset")
            self.sleep(wait)

    def _probe(self, number: int) -> None:
        """The token's budget from GET /rate_limit, which costs no quota."""
        headers = {
            "Authorization": f"Bearer {self.tokens[number - 1]}",
            "Accept": "application/vnd.github+json",
            "User-Agent": "botstudy",
        }
        try:
            response = httpx.get(
                f"{self.api_url}/rate_limit", headers=headers, timeout=self.timeout_s
            )
        except httpx.HTTPError as error:
            self.log(f"token {number}: budget unknown ({type(error).__name__}); trying it anyway")
            self.budgets[number] = Budget(MIN_BUDGET, None, None)
            return
        if response.status_code == 401:
            self.aside_until[number] = float("inf")
            self.log(f"token {number} was refused (401 Bad credentials); not using it")
            return
        core = (response.json().get("resources") or {}).get("core") or {}
        remaining = core.get("remaining", response.headers.get("x-ratelimit-remaining"))
        reset = core.get("reset", response.headers.get("x-ratelimit-reset"))
        self.budgets[number] = Budget(
            int(remaining) if remaining is not None else MIN_BUDGET,
            int(core["limit"]) if core.get("limit") is not None else None,
            float(reset) if reset is not None else None,
        )


def _left(budget: Budget) -> int:
    """Requests left; a budget not known yet counts as plenty (GitHub will say)."""
    return 10**9 if budget.remaining is None else budget.remaining
