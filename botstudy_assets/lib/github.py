"""A small GitHub REST client on httpx that spends as few rate-limited requests as possible.

It follows GitHub's advice: one pooled connection, conditional requests (a 304 is free), waiting
for the primary limit's reset instead of failing, honouring `retry-after` on secondary limits,
and retrying 5xx answers, timeouts and unparseable pages with jittered exponential backoff. The
token travels only in the Authorization header; it is never part of a URL, a log line or an error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from .backoff import Backoff

if TYPE_CHECKING:
    from .tokens import TokenPool

_TRANSIENT_STATUS = {500, 502, 503, 504}


class GitHubError(RuntimeError):
    """GitHub refused a request in a way retrying cannot fix."""


class GitHubAuthError(GitHubError):
    pass


class GitHubNotFound(GitHubError):
    pass


class PaginationLimit(GitHubError):
    """422: GitHub will not page this deep; restart the walk from a `since` watermark."""


@dataclass
class Page:
    url: str
    status: int
    items: list[Any] | None
    etag: str | None
    next_url: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class ClientStats:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0
    rate_remaining: int | None = None

    @property
    def counted(self) -> int:
        """Requests that count against the primary rate limit (304s are free)."""
        return self.requests - self.not_modified


@dataclass
class GitHubClient:
    api_url: str
    token: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 8
    backoff_base_s: float = 1.0
    max_backoff_s: float = 120.0
    # How long to keep waiting when the budget is 0 and GitHub names no reset time in the future
    # (a proxy stripped it, or the clock disagrees): then give up rather than hammer the API.
    rate_limit_patience_s: float = 300.0
    log: Callable[[str], None] = lambda message: None
    sleep: Callable[[float], None] = time.sleep
    stats: ClientStats = field(default_factory=ClientStats)
    # Several tokens: each request goes with the token the pool holds for this run.
    tokens: TokenPool | None = None

    def __post_init__(self) -> None:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "botstudy",
        }
        if self.token and self.tokens is None:
            headers["Authorization"] = f"Bearer {self.token}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 15.0)),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            follow_redirects=True,
        )
        self._exhausted = False  # the last answer said x-ratelimit-remaining: 0
        self._reset_at: float | None = None
        self._blind_waits = 0  # waits in a row for a budget with no future reset time
        self._blind_waited_s = 0.0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return self.api_url.rstrip("/") + "/" + path.lstrip("/")

    def get_page(self, url: str, etag: str | None = None) -> Page:
        """GET one page, retrying what is transient; raises GitHubError for what is not."""
        attempt = 0
        while True:
            self._wait_for_primary_reset()
            headers = {"If-None-Match": etag} if etag else {}
            number = None
            if self.tokens is not None:
                number, token = self.tokens.token()
                headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._http.get(url, headers=headers)
            except httpx.TransportError as error:
                self.stats.requests += 1
                attempt = self._backoff(attempt, f"{type(error).__name__} on {_path(url)}")
                continue
            self.stats.requests += 1
            self._note_rate_limit(response, number)
            outcome = self._classify(response, url)
            if outcome == "ok":
                try:
                    return self._page(url, response)
                except ValueError as error:
                    attempt = self._backoff(
                        attempt, f"unparseable answer from {_path(url)}: {error}"
                    )
                    continue
            if outcome == "not_modified":
                self.stats.not_modified += 1
                return Page(url, 304, None, etag, None)
            if outcome == "primary_limit":
                continue  # _wait_for_primary_reset waits before the next request
            attempt = self._backoff(attempt, outcome, _retry_after(response))

    def _classify(self, response: httpx.Response, url: str) -> str:
        status = response.status_code
        if status == 200:
            return "ok"
        if status == 304:
            return "not_modified"
        message = _message(response)
        if status == 401:
            raise GitHubAuthError(
                f"GitHub answered 401 ({message or 'Bad credentials'}) for {_path(url)}: "
                "GITHUB_TOKEN is missing, expired or revoked"
            )
        if status == 404:
            raise GitHubNotFound(
                f"GitHub answered 404 for {_path(url)}: the repository does not exist or the "
                "token cannot see it (check BOTSTUDY_REPOS and BOTSTUDY_GITHUB_API_URL)"
            )
        if status == 422:
            raise PaginationLimit(f"{_path(url)}: {message or '422 Unprocessable Entity'}")
        if status in (403, 429):
            if (
                response.headers.get("x-ratelimit-remaining") == "0"
                and "secondary" not in message.lower()
            ):
                return "primary_limit"
            if (
                status == 429
                or "secondary rate limit" in message.lower()
                or "retry-after" in response.headers
            ):
                return f"secondary rate limit ({message or status})"
            raise GitHubError(f"GitHub answered {status} for {_path(url)}: {message}")
        if status in _TRANSIENT_STATUS:
            return f"HTTP {status} on {_path(url)}"
        raise GitHubError(f"GitHub answered {status} for {_path(url)}: {message}")

    def _page(self, url: str, response: httpx.Response) -> Page:
        items = json.loads(response.content.decode("utf-8", errors="replace"))
        if not isinstance(items, list):
            raise ValueError(f"expected a JSON array, got {type(items).__name__}")
        next_link = response.links.get("next", {}).get("url")
        return Page(url, 200, items, response.headers.get("etag"), next_link)

    def _note_rate_limit(self, response: httpx.Response, number: int | None = None) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        limit = response.headers.get("x-ratelimit-limit")
        if remaining is None or not remaining.isdigit():
            return
        self.stats.rate_remaining = int(remaining)
        reset_at = float(reset) if reset and reset.isdigit() else None
        if self.tokens is not None and number is not None:
            self.tokens.note(
                number, int(remaining), int(limit) if limit and limit.isdigit() else None, reset_at
            )
            if int(remaining) == 0 and self.tokens.spent(number):
                return  # another token with budget left takes over: no wait
        self._exhausted = int(remaining) == 0
        if self._exhausted:
            self._reset_at = reset_at
        else:
            self._blind_waits, self._blind_waited_s = 0, 0.0

    def _wait_for_primary_reset(self) -> None:
        """Before a request, while the budget is 0: wait for a reset time in the future, else
        back off (never less than 1 s) and give up after `rate_limit_patience_s` of that."""
        if not self._exhausted:
            return
        self._exhausted = False  # the next answer says again whether the budget is back
        now = time.time()
        if self._reset_at is not None and self._reset_at > now:
            wait = self._reset_at - now + 1.0
            self._blind_waits, self._blind_waited_s = 0, 0.0
            self.log(f"rate limit reached, waiting {wait:.0f} s until reset")
        else:
            wait = self._blind_wait()
            self.log(
                "rate limit reached and GitHub names no reset time in the future; "
                f"waiting {wait:.1f} s (giving up after {self.rate_limit_patience_s:.0f} s)"
            )
        self.stats.rate_limit_waits += 1
        self.stats.waited_s += wait
        self.sleep(wait)

    def _blind_wait(self) -> float:
        left = self.rate_limit_patience_s - self._blind_waited_s
        if left <= 0:
            raise GitHubError(
                f"GitHub's rate limit stayed exhausted for {self._blind_waited_s:.0f} s with no "
                "x-ratelimit-reset in the future to wait for; giving up (check the token's "
                "quota at /rate_limit and run again later; pages already stored are kept)"
            )
        # At least 1 s, growing, jittered; the last wait ends when the patience does.
        wait = max(1.0, Backoff(2.0, 60.0).delay(self._blind_waits))
        wait = max(1.0, min(wait, left))
        self._blind_waits += 1
        self._blind_waited_s += wait
        return wait

    def _backoff(self, attempt: int, reason: str, retry_after: float | None = None) -> int:
        if attempt >= self.max_retries:
            raise GitHubError(f"giving up after {attempt} retries: {reason}")
        if retry_after is not None:
            wait = retry_after
        else:
            wait = Backoff(self.backoff_base_s, self.max_backoff_s).delay(attempt)
        self.stats.retries += 1
        self.stats.waited_s += wait
        self.log(f"{reason}; retry {attempt + 1}/{self.max_retries} in {wait:.1f} s")
        self.sleep(wait)
        return attempt + 1


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(payload, dict):
        return str(payload.get("message", ""))
    return ""


def _path(url: str) -> str:
    """URL without scheme and host, for messages (never carries credentials)."""
    parsed = httpx.URL(url)
    query = f"?{parsed.query.decode()}" if parsed.query else ""
    return f"{parsed.path}{query}"
