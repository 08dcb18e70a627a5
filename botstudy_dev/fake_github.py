"""A fake GitHub REST API served on loopback for tests and benchmarks.

The miner must never talk to the real GitHub in tests, yet its correctness
depends on GitHub's quirks: cursor paging for issues, a page cap for
repository comments and issue events, primary and secondary rate limits, ETag
revalidation and transient failures.  `FakeGitHub` serves an in-memory corpus with those
behaviours, using only the standard library.

    with FakeGitHub(corpus, token="t") as gh:
        httpx.get(f"{gh.url}/repos/o/r/issues", headers={"Authorization": "token t"})
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import hashlib
import json
import math
import random
import socket
import sys
import threading
import time
import urllib.parse
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import chain

__all__ = [
    "FakeGitHub",
    "add_bulk_events",
    "bulk_corpus",
    "minimum_event_requests",
    "minimum_requests",
]

DOCS_URL = "https://docs.github.com/rest"
ENTERPRISE_PREFIX = "/api/v3"
JSON_TYPE = "application/json; charset=utf-8"
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

ISSUES_CAP_MESSAGE = (
    "Pagination with the page parameter is not supported for large datasets, "
    "please use cursor based pagination (after/before)"
)
# GitHub answers a too-deep page of repository comments and of repository issue events alike
# (octokit/octokit.net#1417 quotes it for GET /repos/{o}/{r}/issues/events).
COMMENTS_CAP_MESSAGE = EVENTS_CAP_MESSAGE = (
    "In order to keep the API fast for everyone, pagination is limited for this resource. "
    "Check the rel=last link relation in the Link response header to see how far back you can "
    "traverse."
)
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
PRIMARY_MESSAGE = "API rate limit exceeded for user ID 1."

FAULT_KINDS = frozenset({"502", "secondary", "not_json", "primary", "timeout"})
ISSUE_SORT_FIELDS = {"created": "created_at", "updated": "updated_at", "comments": "comments"}
COMMENT_SORT_FIELDS = {"created": "created_at", "updated": "updated_at"}
DEFAULT_PER_PAGE = 30
MAX_CACHED_VIEWS = 64  # per repo; distinct `since` values each get a view

# Path patterns: "*" matches any segment, "#" only digits.  Patterns starting
# with "repos" are repository-scoped (first two wildcards are owner and name).
ROUTES = (
    (("rate_limit",), "rate_limit"),
    (("users", "*"), "user"),
    (("users", "*", "orgs"), "user_orgs"),
    (("repos", "*", "*"), "repo"),
    (("repos", "*", "*", "issues"), "issues"),
    (("repos", "*", "*", "issues", "comments"), "comments"),
    (("repos", "*", "*", "issues", "comments", "#", "reactions"), "comment_reactions"),
    (("repos", "*", "*", "issues", "events"), "events"),
    (("repos", "*", "*", "issues", "#", "events"), "issue_events"),
    (("repos", "*", "*", "issues", "#"), "issue"),
    (("repos", "*", "*", "issues", "#", "comments"), "issue_comments"),
    (("repos", "*", "*", "issues", "#", "reactions"), "issue_reactions"),
)


# --------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer (status + GitHub-style JSON message) raised by endpoint code."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Reply:
    """One HTTP answer.  `charge` says how it is accounted in stats and quota."""

    __slots__ = ("body", "charge", "delay", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        charge: str = "counted",
        delay: float = 0.0,
    ):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.charge = charge  # the stats key: counted | not_modified | faults | rate_limited | free
        self.delay = delay


def dumps(payload) -> bytes:
    """Compact UTF-8 JSON like GitHub's; control chars (incl. NUL) are escaped by json."""
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be UTF-8: escape them instead
        return json.dumps(payload, separators=(",", ":")).encode("ascii")


def json_reply(
    status: int, payload, headers: dict[str, str] | None = None, charge: str = "counted"
) -> Reply:
    return Reply(status, dumps(payload), {"Content-Type": JSON_TYPE, **(headers or {})}, charge)


def error_payload(message: str) -> dict:
    return {"message": message, "documentation_url": DOCS_URL}


def format_ts(moment: datetime) -> str:
    return moment.strftime(TS_FORMAT)


def parse_ts(value: str) -> datetime:
    return datetime.strptime(value, TS_FORMAT).replace(tzinfo=UTC)


def parse_since(value: str | None) -> str | None:
    """Normalise `since` to the corpus' second-resolution string form.

    A fractional second is rounded up so that string comparison keeps the
    `updated_at >= since` semantics for whole-second timestamps.
    """
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(422, f"Invalid value for parameter 'since': {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return format_ts(moment)


def choice_param(query: dict[str, str], name: str, default: str, allowed) -> str:
    value = query.get(name) or default
    if value not in allowed:
        raise ApiError(422, f"Invalid value for parameter '{name}': {value!r}")
    return value


def int_param(query: dict[str, str], name: str, default: int) -> int:
    """GitHub silently falls back to the default for junk or non-positive numbers."""
    try:
        value = int(query.get(name, default))
    except ValueError:
        return default
    return value if value >= 1 else default


def sort_key(item: dict, field: str, id_field: str) -> tuple:
    value = item.get(field)
    if value is None:
        value = 0 if field == "comments" else ""
    return (value, item[id_field])


def encode_cursor(sort: str, key: tuple) -> str:
    raw = "cursor:v2:" + json.dumps([sort, *key], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(token: str, sort: str) -> tuple:
    """The sort key a cursor points after; positions survive later insertions."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
        cursor_sort, value, number = json.loads(raw.removeprefix("cursor:v2:"))
    except (ValueError, TypeError):
        raise ApiError(422, f"Invalid cursor: {token!r}") from None
    value_type = int if sort == "comments" else str
    if cursor_sort != sort or not isinstance(value, value_type) or not isinstance(number, int):
        raise ApiError(422, "The cursor does not match the requested sort order")
    return (value, number)


def etag_of(body: bytes) -> str:
    return f'W/"{hashlib.sha1(body).hexdigest()}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match may list several tags, weak or strong, or be "*"."""
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return wanted in tags or "*" in tags


def link_header(links: list[tuple[str, str]]) -> dict[str, str]:
    if not links:
        return {}
    return {"Link": ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)}


def route(path: str) -> tuple[str, list[str], bool]:
    """Map a path (without /api/v3) to an endpoint name, its wildcard segments
    and whether it is repository-scoped."""
    segments = [urllib.parse.unquote(s) for s in path.split("/") if s]
    for pattern, name in ROUTES:
        if len(pattern) == len(segments) and all(
            p == s or p == "*" or (p == "#" and s.isdigit())
            for p, s in zip(pattern, segments, strict=True)
        ):
            return (
                name,
                [s for p, s in zip(pattern, segments, strict=True) if p in ("*", "#")],
                pattern[0] == "repos",
            )
    return "not_found", [], False


def stable_id(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16)


def user_object(login: str, known: dict | None) -> dict:
    """A /users/{login} answer; unknown logins are synthesised rather than 404'd."""
    user = {
        "login": login,
        "id": stable_id(login),
        "node_id": f"U_{stable_id(login)}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{stable_id(login)}",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "Bot" if login.endswith("[bot]") else "User",
        "site_admin": False,
    }
    user.update(known or {})
    user.update(
        name=None,
        company=None,
        blog="",
        location=None,
        email=None,
        bio=None,
        public_repos=0,
        followers=0,
        following=0,
        created_at="2010-01-01T00:00:00Z",
    )
    return user


# --------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------


class Request:
    __slots__ = (
        "args",
        "endpoint",
        "headers",
        "params",
        "path",
        "path_query",
        "prefix",
        "query",
        "repo_name",
    )

    def __init__(self, raw_path: str, headers):
        self.path_query = raw_path
        parts = urllib.parse.urlsplit(raw_path)
        path = parts.path
        is_enterprise = path == ENTERPRISE_PREFIX or path.startswith(ENTERPRISE_PREFIX + "/")
        self.prefix = ENTERPRISE_PREFIX if is_enterprise else ""
        self.path = path[len(self.prefix) :] or "/"
        self.params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        self.query = dict(self.params)
        self.headers = headers
        self.endpoint, args, repo_scoped = route(self.path)
        if repo_scoped:
            self.repo_name, self.args = f"{args[0]}/{args[1]}", args[2:]
        else:
            self.repo_name, self.args = None, args


# --------------------------------------------------------------------------
# Corpus state
# --------------------------------------------------------------------------


class View:
    """Items sorted ascending by a (value, number-or-id) key, with keys for bisect.

    A view may be a suffix (`start`) of another's lists, shared rather than copied: a client that
    asks with a new `since` on every page must not cost the server a copy of the list each time."""

    __slots__ = ("items", "keys", "start")

    def __init__(self, keys: list[tuple], items: list[dict], start: int = 0):
        self.keys, self.items, self.start = keys, items, start

    @classmethod
    def from_pairs(cls, pairs: list[tuple[tuple, dict]]) -> View:
        return cls([key for key, _ in pairs], [item for _, item in pairs])

    @classmethod
    def sorted_from(cls, items, field: str, id_field: str) -> View:
        return cls.from_pairs(
            sorted(((sort_key(it, field, id_field), it) for it in items), key=lambda p: p[0])
        )

    def where(self, predicate) -> View:
        return View.from_pairs(
            [
                (k, it)
                for k, it in zip(self.keys[self.start :], self.items[self.start :], strict=True)
                if predicate(it)
            ]
        )

    def from_value(self, value: str) -> View:
        """Suffix of items whose sort value is >= value (the key is (value, id))."""
        return View(self.keys, self.items, bisect.bisect_left(self.keys, (value,), lo=self.start))

    def __len__(self) -> int:
        return len(self.items) - self.start

    def offset_after(self, key: tuple, direction: str) -> int:
        """How many items precede the first one after `key` when walking in `direction`."""
        if direction == "asc":
            return bisect.bisect_right(self.keys, key, lo=self.start) - self.start
        return len(self.keys) - bisect.bisect_left(self.keys, key, lo=self.start)

    def page(self, offset: int, size: int, direction: str) -> tuple[list[dict], tuple | None, bool]:
        """Items [offset, offset+size) in walking order, the last one's key, and whether more
        follow."""
        n = len(self.items)
        if direction == "asc":
            lo, hi = self.start + offset, min(self.start + offset + size, n)
            more = hi < n
        else:
            hi = n - offset
            lo = max(hi - size, self.start)
            more = lo > self.start
        if lo >= hi:
            return [], None, False
        items = self.items[lo:hi]
        if direction == "asc":
            return items, self.keys[hi - 1], more
        items.reverse()
        return items, self.keys[lo], more

    def all_items(self) -> list[dict]:
        return self.items[self.start :]


def issue_number_of(comment: dict) -> int:
    return int(comment["issue_url"].rstrip("/").rsplit("/", 1)[1])


def event_issue_number(event: dict) -> int:
    """Corpus events name their issue by `issue.number` (GitHub's repository-wide shape)."""
    return int(event["issue"]["number"])


class RepoState:
    """One repository.  Item dicts are shared with the caller and never mutated
    in place: mutations store modified copies, so the caller's corpus stays intact."""

    def __init__(
        self,
        full_name: str,
        repo_id: int,
        issues: list[dict],
        comments: list[dict],
        events: list[dict] | None = None,
    ):
        self.full_name = full_name
        self.id = repo_id
        self.issues = {issue["number"]: issue for issue in issues}
        self.comments = {comment["id"]: comment for comment in comments}
        self.events = {event["id"]: event for event in events or ()}
        self.invalidate()

    def invalidate(self) -> None:
        self._views: dict[tuple, View] = {}
        self._by_issue: dict[int, list[dict]] | None = None
        self._events_by_issue: dict[int, list[dict]] | None = None

    def view(self, kind: str, sort: str, state: str = "all", since: str | None = None) -> View:
        cache_key = (kind, sort, state, since)
        view = self._views.get(cache_key)
        if view is None:
            if len(self._views) >= MAX_CACHED_VIEWS:
                self._views.clear()
            view = self._views[cache_key] = self._build_view(kind, sort, state, since)
        return view

    def _build_view(self, kind: str, sort: str, state: str, since: str | None) -> View:
        if since is not None:
            base = self.view(kind, sort, state)
            if sort == "updated":
                return base.from_value(since)
            return base.where(lambda it: (it.get("updated_at") or "") >= since)
        if state != "all":
            return self.view(kind, sort).where(lambda it: it.get("state") == state)
        if kind == "issues":
            return View.sorted_from(self.issues.values(), ISSUE_SORT_FIELDS[sort], "number")
        if kind == "events":
            return View.sorted_from(self.events.values(), "created_at", "id")
        return View.sorted_from(self.comments.values(), COMMENT_SORT_FIELDS[sort], "id")

    def events_of(self, number: int) -> list[dict]:
        """An issue's events, oldest first (as GitHub lists them per issue)."""
        if self._events_by_issue is None:
            self._events_by_issue = {}
            for event in self.view("events", "created").all_items():
                self._events_by_issue.setdefault(event_issue_number(event), []).append(event)
        return self._events_by_issue.get(number, [])

    def put_event(self, event: dict) -> None:
        self.events[event["id"]] = event
        self.invalidate()

    def comments_of(self, number: int) -> list[dict]:
        """An issue's comments in creation order (built once from the sorted view)."""
        if self._by_issue is None:
            self._by_issue = {}
            for comment in self.view("comments", "created").all_items():
                self._by_issue.setdefault(issue_number_of(comment), []).append(comment)
        return self._by_issue.get(number, [])

    def issue(self, number: int) -> dict:
        if number not in self.issues:
            raise ApiError(404, "Not Found")
        return self.issues[number]

    def put_issue(self, issue: dict) -> None:
        self.issues[issue["number"]] = issue
        self.invalidate()

    def comment(self, comment_id: int) -> dict:
        if comment_id not in self.comments:
            raise ApiError(404, "Not Found")
        return self.comments[comment_id]

    def put_comment(self, comment: dict) -> None:
        self.comments[comment["id"]] = comment
        self.invalidate()

    def drop_comment(self, comment_id: int) -> None:
        del self.comments[comment_id]
        self.invalidate()


class RateLimit:
    """GitHub's primary (core) quota: `limit` requests per window from first use.

    The window end is kept both as an integer epoch (what the headers say)
    and as the matching monotonic instant (what decides), so a client that
    sleeps until x-ratelimit-reset always finds the quota renewed.
    `reset_header` "missing" leaves x-ratelimit-reset out and "past" says a
    moment already gone (both seen from proxies and misbehaving servers).
    """

    RESET_HEADERS = ("future", "missing", "past")

    def __init__(self, limit: int, window: float, reset_header: str = "future"):
        if reset_header not in self.RESET_HEADERS:
            raise ValueError(f"reset_header must be one of {self.RESET_HEADERS}")
        self.limit = limit
        self.window = window
        self.reset_header = reset_header
        self.used = 0
        self._reset_epoch = 0
        self._reset_monotonic = None

    def _roll(self) -> None:
        now = time.monotonic()
        if self._reset_monotonic is None or now >= self._reset_monotonic:
            wall = time.time()
            self._reset_epoch = math.ceil(wall + self.window)
            self._reset_monotonic = now + (self._reset_epoch - wall)
            self.used = 0

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def exhausted(self) -> bool:
        self._roll()
        return self.remaining == 0

    def consume(self) -> None:
        self._roll()
        self.used += 1

    def exhaust(self) -> None:
        self._roll()
        self.used = self.limit

    def snapshot(self) -> dict:
        self._roll()
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "reset": self._reset_epoch,
            "used": self.used,
            "resource": "core",
        }

    def headers(self) -> dict[str, str]:
        snapshot = self.snapshot()
        if self.reset_header == "missing":
            del snapshot["reset"]
        elif self.reset_header == "past":
            snapshot["reset"] = math.floor(time.time()) - 60
        return {f"x-ratelimit-{name}": str(value) for name, value in snapshot.items()}


def new_stats() -> dict:
    return {
        "requests": 0,
        "counted": 0,
        "not_modified": 0,
        "faults": 0,
        "rate_limited": 0,
        "errors_401": 0,
        "errors_404": 0,
        "errors_422": 0,
        "by_endpoint": {},
        "counted_by_endpoint": {},
        "by_repo": {},
        "by_status": {},
        "faults_by_kind": {},
        "counted_by_token": {},
        "rate_limited_by_token": {},
    }


def bump(counter: dict, key) -> None:
    counter[key] = counter.get(key, 0) + 1


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections
    disable_nagle_algorithm = True  # headers and body are separate writes
    server_version = "GitHub.com"
    sys_version = ""

    def do_GET(self) -> None:
        fake: FakeGitHub = self.server.fake
        fake._hold_if_asked()
        reply = fake._handle(self.path, self.headers)
        if fake.latency and not reply.delay:
            reply.delay = fake.latency
        if reply.delay:
            fake._stopping.wait(reply.delay)  # a "timeout" fault; stop() cuts it short
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.status != 304:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.status != 304:
                self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True  # the client gave up (its timeout fired) or stop() cut it

    def log_message(self, format, *args) -> None:
        pass  # quiet: tests and benchmarks make many thousands of requests


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, fake: FakeGitHub):
        super().__init__(address, Handler)
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop kept-alive connections so a stopped fake really stops answering."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # dropped connections are routine here
            super().handle_error(request, client_address)


# --------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------


class FakeGitHub:
    """A fake GitHub REST API for `corpus` ({"owner/name": {"issues": [...], "comments": [...],
    "events": [...]}}; events in the repository-wide shape, naming their issue by `issue.number`).

    See the module docstring; `stats` says what the client did, `fail_next`
    and `fault_rate` make it misbehave, the mutation helpers make it change.
    """

    def __init__(
        self,
        corpus: dict[str, dict[str, list[dict]]],
        *,
        token: str | None = None,
        tokens: tuple[str, ...] = (),
        issues_offset_cap: int = 1000,
        comments_offset_cap: int = 40000,
        events_offset_cap: int = 40000,
        rate_limit: int = 5000,
        rate_reset_seconds: float = 3600.0,
        rate_reset_header: str = "future",
        fault_rate: float = 0.0,
        fault_kinds: tuple[str, ...] = ("502", "secondary"),
        retry_after: int | None = 1,
        seed: int = 0,
        max_per_page: int = 100,
        timeout_delay: float = 3.0,
        latency: float = 0.0,
    ):
        self._repos = {
            name.lower(): RepoState(
                name,
                index + 1,
                data.get("issues", []),
                data.get("comments", []),
                data.get("events", []),
            )
            for index, (name, data) in enumerate(corpus.items())
        }
        # Several tokens (GITHUB_TOKENS) each have their own quota, as on GitHub; `stats` counts
        # by token number (1, 2, ...), never by the token itself.
        self._tokens = tuple(dict.fromkeys([*([token] if token else []), *tokens]))
        self.issues_offset_cap = issues_offset_cap
        self.comments_offset_cap = comments_offset_cap
        # GitHub does not document how deep the repository issue events list pages; like the
        # comments list it refuses pages past a cap with a 422 (see EVENTS_CAP_MESSAGE).
        self.events_offset_cap = events_offset_cap
        self._rates = {
            credential: RateLimit(rate_limit, rate_reset_seconds, rate_reset_header)
            for credential in (self._tokens or (None,))
        }
        self._rate = self._rates[self._tokens[0] if self._tokens else None]  # the one answering
        self._fault_rate = fault_rate
        self._fault_kinds = tuple(self._checked_kind(kind) for kind in fault_kinds)
        self._retry_after = retry_after
        self._random = random.Random(seed)
        self._forced_faults: deque[str] = deque()
        self._max_per_page = max_per_page
        self._timeout_delay = timeout_delay
        self.latency = latency  # seconds added to every answer (to catch a run mid-walk)
        self._clock, self._last_id = self._corpus_extent()
        self._users: dict[str, dict] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stats = new_stats()
        self._request_log: list[tuple[float, str]] = []
        self._hold_countdown: int | None = None
        self._held = threading.Event()  # the held request has arrived
        self._release = threading.Event()
        self.url = ""

    # ----- lifecycle -----

    def start(self) -> FakeGitHub:
        if self._server is None:
            self._stopping.clear()
            self._server = Server(("127.0.0.1", 0), self)
            host, port = self._server.server_address[:2]
            self.url = f"http://{host}:{port}"
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-github",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ----- observation and control -----

    @property
    def stats(self) -> dict:
        with self._lock:
            return {k: dict(v) if isinstance(v, dict) else v for k, v in self._stats.items()}

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = new_stats()
            self._request_log = []

    def request_times(self) -> list[float]:
        """When each request since the last `reset_stats` arrived (time.monotonic())."""
        with self._lock:
            return [moment for moment, _ in self._request_log]

    def request_paths(self) -> list[str]:
        """The path and query of each request since the last `reset_stats`, in order."""
        with self._lock:
            return [path for _, path in self._request_log]

    def hold_request(self, nth: int) -> threading.Event:
        """Leave the `nth` request from now unanswered (in flight) until `release()` or `stop()`;
        the event returned is set when it arrives."""
        with self._lock:
            self._hold_countdown = nth
            self._held.clear()
            self._release.clear()
        return self._held

    def release(self) -> None:
        self._release.set()

    def _hold_if_asked(self) -> None:
        with self._lock:
            if self._hold_countdown is None:
                return
            self._hold_countdown -= 1
            if self._hold_countdown > 0:
                return
            self._hold_countdown = None
            self._held.set()
        while not (self._release.wait(0.05) or self._stopping.is_set()):
            pass

    @property
    def fault_rate(self) -> float:
        return self._fault_rate

    @fault_rate.setter
    def fault_rate(self, rate: float) -> None:
        with self._lock:
            self._fault_rate = rate

    def fail_next(self, n: int, kind: str) -> None:
        """Force the next `n` requests to fail with `kind` (see FAULT_KINDS)."""
        kind = self._checked_kind(kind)
        with self._lock:
            self._forced_faults.extend([kind] * n)

    @staticmethod
    def _checked_kind(kind: str) -> str:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        return kind

    # ----- mutation helpers (each stamps a fresh, strictly latest updated_at) -----

    def add_issue(self, repo: str, issue: dict) -> None:
        """Add an issue (or PR); number and id default to the next free ones."""
        with self._lock:
            state = self._repos.get(repo.lower())
            if state is None:
                state = self._repos[repo.lower()] = RepoState(repo, len(self._repos) + 1, [], [])
            now = self._tick()
            item = dict(issue)
            number = item.setdefault("number", max(state.issues, default=0) + 1)
            api = f"https://api.github.com/repos/{state.full_name}"
            item.setdefault("id", self._new_id())
            item.setdefault("url", f"{api}/issues/{number}")
            item.setdefault("repository_url", api)
            item.setdefault("comments_url", f"{api}/issues/{number}/comments")
            item.setdefault("html_url", f"https://github.com/{state.full_name}/issues/{number}")
            item.setdefault("state", "open")
            item.setdefault("comments", 0)
            item.setdefault("created_at", now)
            item["updated_at"] = now
            state.put_issue(item)
            self._users = None

    def update_issue(self, repo: str, number: int, **fields) -> None:
        """Change fields of an issue; an explicit updated_at wins over the fresh one."""
        with self._lock:
            state = self._repo(repo)
            now = self._tick()
            item = {**state.issue(number), **fields}
            item["updated_at"] = fields.get("updated_at", now)
            if fields.get("state") == "closed" and "closed_at" not in fields:
                item["closed_at"] = now
            elif fields.get("state") == "open" and "closed_at" not in fields:
                item["closed_at"] = None
            state.put_issue(item)
            self._users = None

    def add_comment(self, repo: str, comment: dict) -> None:
        """Add a comment (needs issue_url); like GitHub, it also bumps the issue's
        updated_at and comment count."""
        with self._lock:
            state = self._repo(repo)
            number = issue_number_of(comment)
            issue = state.issue(number)
            now = self._tick()
            item = dict(comment)
            comment_id = item.setdefault("id", self._new_id())
            item.setdefault(
                "url",
                f"https://api.github.com/repos/{state.full_name}/issues/comments/{comment_id}",
            )
            item.setdefault(
                "html_url",
                f"https://github.com/{state.full_name}/issues/{number}#issuecomment-{comment_id}",
            )
            item.setdefault("created_at", now)
            item["updated_at"] = now
            state.put_comment(item)
            state.put_issue(
                {**issue, "comments": (issue.get("comments") or 0) + 1, "updated_at": now}
            )
            self._users = None

    def comments(self, repo: str) -> list[dict]:
        """The repository's comments as they are now."""
        with self._lock:
            return list(self._repo(repo).comments.values())

    def update_comment(self, repo: str, comment_id: int, **fields) -> None:
        """Edit a comment: it moves to the end of the updated order, and in offset-paged lists
        every later comment moves up one place."""
        with self._lock:
            state = self._repo(repo)
            state.put_comment({**state.comment(comment_id), **fields, "updated_at": self._tick()})

    def add_event(self, repo: str, event: dict, *, touch_issue: bool = True) -> dict:
        """Add an issue event (needs `issue.number`): id and created_at default to the next
        ones, so it becomes the newest event; like a label or close, it bumps the issue's
        updated_at unless `touch_issue` is False. Returns the stored event."""
        with self._lock:
            state = self._repo(repo)
            number = event_issue_number(event)
            issue = state.issue(number)
            now = self._tick()
            item = dict(event)
            item.setdefault("id", self._new_id())
            item.setdefault("node_id", f"IE_{item['id']}")
            item.setdefault(
                "url", f"https://api.github.com/repos/{state.full_name}/issues/events/{item['id']}"
            )
            item.setdefault("created_at", now)
            state.put_event(item)
            if touch_issue:
                state.put_issue({**issue, "updated_at": now})
            self._users = None
            return item

    def events(self, repo: str) -> list[dict]:
        """The repository's issue events as they are now."""
        with self._lock:
            return list(self._repo(repo).events.values())

    def delete_comment(self, repo: str, comment_id: int) -> None:
        """Delete a comment: every later comment moves up one place in offset-paged lists."""
        with self._lock:
            state = self._repo(repo)
            number = issue_number_of(state.comment(comment_id))
            state.drop_comment(comment_id)
            issue = state.issue(number)
            state.put_issue({**issue, "comments": max(0, (issue.get("comments") or 0) - 1)})
            self._users = None

    def _repo(self, name: str) -> RepoState:
        state = self._repos.get(name.lower())
        if state is None:
            raise KeyError(f"unknown repository {name!r}")
        return state

    def _corpus_extent(self) -> tuple[str, int]:
        """The latest timestamp and the largest id in the corpus."""
        latest, last_id = "", 0
        for state in self._repos.values():
            for item in chain(
                state.issues.values(), state.comments.values(), state.events.values()
            ):
                latest = max(
                    latest,
                    item.get("created_at") or "",
                    item.get("updated_at") or "",
                    item.get("closed_at") or "",
                )
                last_id = max(last_id, item.get("id") or 0)
        return latest, last_id

    def _tick(self) -> str:
        """A timestamp strictly later than anything seen so far (GitHub has 1 s resolution)."""
        now = datetime.now(UTC).replace(microsecond=0)
        if self._clock:
            now = max(now, parse_ts(self._clock) + timedelta(seconds=1))
        self._clock = format_ts(now)
        return self._clock

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    # ----- request handling -----

    def _handle(self, raw_path: str, headers) -> Reply:
        request = Request(raw_path, headers)
        with self._lock:
            reply = self._respond(request)
            self._record(request, reply)
        return reply

    def _respond(self, request: Request) -> Reply:
        credential = self._credential(request.headers.get("Authorization"))
        if self._tokens and credential not in self._rates:
            return json_reply(401, error_payload("Bad credentials"), charge="free")
        # Under the lock: the quota of this request's token is the one every helper charges.
        self._rate = self._rates[credential if self._tokens else None]
        fault = self._next_fault()
        if fault:
            return self._fault_reply(fault)
        if request.endpoint == "rate_limit":
            snapshot = self._rate.snapshot()
            return json_reply(
                200,
                {"resources": {"core": snapshot}, "rate": snapshot},
                self._rate.headers(),
                charge="free",
            )
        if self._rate.exhausted():
            return self._primary_limited_reply("rate_limited")
        try:
            reply = self._dispatch(request)
        except ApiError as error:
            reply = json_reply(error.status, error_payload(error.message), error.headers)
        return self._charge(request, reply)

    def _dispatch(self, request: Request) -> Reply:
        if request.endpoint == "not_found":
            raise ApiError(404, "Not Found")
        handler = getattr(self, f"_get_{request.endpoint}")
        if request.repo_name is None:
            return handler(request, *request.args)
        repo = self._repos.get(request.repo_name.lower())
        if repo is None:
            raise ApiError(404, "Not Found")
        return handler(request, repo, *(int(arg) for arg in request.args))

    def _charge(self, request: Request, reply: Reply) -> Reply:
        """Attach ETag and quota headers; a matching If-None-Match turns 200 into a free 304."""
        if reply.status == 200:
            etag = reply.headers["ETag"] = etag_of(reply.body)
            if etag_matches(request.headers.get("If-None-Match"), etag):
                return Reply(
                    304, b"", {"ETag": etag, **self._rate.headers()}, charge="not_modified"
                )
        self._rate.consume()
        reply.headers.update(self._rate.headers())
        return reply

    def _record(self, request: Request, reply: Reply) -> None:
        stats = self._stats
        stats["requests"] += 1
        self._request_log.append((time.monotonic(), request.path_query))
        if reply.charge != "free":
            stats[reply.charge] += 1
        if reply.status in (401, 404, 422):
            stats[f"errors_{reply.status}"] += 1
        bump(stats["by_endpoint"], request.endpoint)
        if reply.charge == "counted":
            bump(stats["counted_by_endpoint"], request.endpoint)
        bump(stats["by_status"], reply.status)
        if request.repo_name:
            bump(stats["by_repo"], request.repo_name)
        credential = self._credential(request.headers.get("Authorization"))
        if credential in self._tokens:
            number = self._tokens.index(credential) + 1
            if reply.charge in ("counted", "rate_limited"):
                bump(stats[f"{reply.charge}_by_token"], number)

    @staticmethod
    def _credential(header: str | None) -> str | None:
        scheme, _, credentials = (header or "").partition(" ")
        return credentials.strip() if scheme.lower() in ("token", "bearer") else None

    def quota(self, number: int) -> dict:
        """Token number `number`'s quota as GET /rate_limit would show it."""
        with self._lock:
            return self._rates[self._tokens[number - 1]].snapshot()

    # ----- faults -----

    def _next_fault(self) -> str | None:
        if self._forced_faults:
            return self._forced_faults.popleft()
        if self._fault_rate and self._random.random() < self._fault_rate:
            return self._random.choice(self._fault_kinds)
        return None

    def _fault_reply(self, kind: str) -> Reply:
        bump(self._stats["faults_by_kind"], kind)
        if kind == "secondary":
            headers = self._rate.headers()  # quota left: how clients tell it from the primary limit
            if self._retry_after is not None:
                headers["retry-after"] = str(self._retry_after)
            return json_reply(403, error_payload(SECONDARY_MESSAGE), headers, charge="faults")
        if kind == "primary":
            self._rate.exhaust()
            return self._primary_limited_reply("faults")
        if kind == "not_json":
            return Reply(
                200,
                b"<html>oops</html>",
                {"Content-Type": "text/html; charset=utf-8"},
                charge="faults",
            )
        reply = json_reply(502, {"message": "Server Error"}, charge="faults")
        if kind == "timeout":
            reply.delay = self._timeout_delay  # hold the connection past the client's timeout
        return reply

    def _primary_limited_reply(self, charge: str) -> Reply:
        payload = {
            "message": PRIMARY_MESSAGE,
            "documentation_url": f"{DOCS_URL}/overview/rate-limits-for-the-rest-api",
        }
        return json_reply(403, payload, self._rate.headers(), charge=charge)

    # ----- endpoints -----

    def _per_page(self, query: dict[str, str]) -> int:
        return min(int_param(query, "per_page", DEFAULT_PER_PAGE), self._max_per_page)

    def _page_url(self, request: Request, **changes) -> str:
        """The request's own URL (same prefix) with paging parameters replaced."""
        params = [(k, v) for k, v in request.params if k not in ("page", "after", "before")]
        query = urllib.parse.urlencode(params + list(changes.items()))
        return f"{self.url}{request.prefix}{request.path}?{query}"

    def _page_links(self, request: Request, page: int, last: int) -> list[tuple[str, str]]:
        links = []
        if page < last:
            links += [
                ("next", self._page_url(request, page=page + 1)),
                ("last", self._page_url(request, page=last)),
            ]
        if page > 1:
            links += [
                ("prev", self._page_url(request, page=min(page - 1, last))),
                ("first", self._page_url(request, page=1)),
            ]
        return links

    def _items_reply(self, items: list[dict], links: list[tuple[str, str]]) -> Reply:
        return json_reply(200, items, link_header(links))

    def _get_issues(self, request: Request, repo: RepoState) -> Reply:
        """Issues and PRs; page=N is capped, `after` cursors are not (GitHub's split)."""
        query = request.query
        state = choice_param(query, "state", "open", ("open", "closed", "all"))
        sort = choice_param(query, "sort", "created", ISSUE_SORT_FIELDS)
        direction = choice_param(query, "direction", "desc", ("asc", "desc"))
        view = repo.view("issues", sort, state, parse_since(query.get("since")))
        per_page = self._per_page(query)
        if "after" in query:
            offset = view.offset_after(decode_cursor(query["after"], sort), direction)
        else:
            offset = (int_param(query, "page", 1) - 1) * per_page
            if offset >= self.issues_offset_cap:
                raise ApiError(422, ISSUES_CAP_MESSAGE)
        items, last_key, more = view.page(offset, per_page, direction)
        links = (
            [("next", self._page_url(request, after=encode_cursor(sort, last_key)))] if more else []
        )
        return self._items_reply(items, links)

    def _get_comments(self, request: Request, repo: RepoState) -> Reply:
        """Repository-wide comments: page-based, refused past comments_offset_cap."""
        query = request.query
        sort = choice_param(query, "sort", "created", COMMENT_SORT_FIELDS)
        # GitHub ignores direction unless sort is given; the default is ascending.
        direction = (
            choice_param(query, "direction", "asc", ("asc", "desc")) if "sort" in query else "asc"
        )
        view = repo.view("comments", sort, "all", parse_since(query.get("since")))
        per_page = self._per_page(query)
        page = int_param(query, "page", 1)
        last = self._last_capped_page(len(view), per_page)
        if (page - 1) * per_page >= self.comments_offset_cap:
            links = [
                ("first", self._page_url(request, page=1)),
                ("last", self._page_url(request, page=last)),
            ]
            raise ApiError(422, COMMENTS_CAP_MESSAGE, link_header(links))
        items, _, _ = view.page((page - 1) * per_page, per_page, direction)
        return self._items_reply(items, self._page_links(request, page, last))

    def _last_capped_page(self, total: int, per_page: int, cap: int | None = None) -> int:
        cap = self.comments_offset_cap if cap is None else cap
        pages = max(math.ceil(total / per_page), 1)
        return min(pages, max(math.ceil(cap / per_page), 1))

    def _get_events(self, request: Request, repo: RepoState) -> Reply:
        """Repository issue events, newest first: page-based, no `since`, no sort, refused past
        events_offset_cap like comments. Each event embeds its issue as it is now, so a page
        changes (and its ETag with it) when one of its issues changes."""
        query = request.query
        view = repo.view("events", "created")
        per_page = self._per_page(query)
        page = int_param(query, "page", 1)
        cap = self.events_offset_cap
        last = self._last_capped_page(len(view), per_page, cap)
        if (page - 1) * per_page >= cap:
            links = [
                ("first", self._page_url(request, page=1)),
                ("last", self._page_url(request, page=last)),
            ]
            raise ApiError(422, EVENTS_CAP_MESSAGE, link_header(links))
        events, _, _ = view.page((page - 1) * per_page, per_page, "desc")
        items = [self._with_issue(repo, event) for event in events]
        return self._items_reply(items, self._page_links(request, page, last))

    @staticmethod
    def _with_issue(repo: RepoState, event: dict) -> dict:
        issue = repo.issues.get(event_issue_number(event))
        return {**event, "issue": issue} if issue is not None else event

    def _get_issue_events(self, request: Request, repo: RepoState, number: int) -> Reply:
        """One issue's events, oldest first, without the embedded issue (GitHub's shape)."""
        repo.issue(number)
        events = repo.events_of(number)
        per_page = self._per_page(request.query)
        page = int_param(request.query, "page", 1)
        last = max(math.ceil(len(events) / per_page), 1)
        items = [
            {key: value for key, value in event.items() if key != "issue"}
            for event in events[(page - 1) * per_page : page * per_page]
        ]
        return self._items_reply(items, self._page_links(request, page, last))

    def _get_issue_comments(self, request: Request, repo: RepoState, number: int) -> Reply:
        repo.issue(number)
        query = request.query
        comments = repo.comments_of(number)
        since = parse_since(query.get("since"))
        if since:
            comments = [c for c in comments if (c.get("updated_at") or "") >= since]
        per_page = self._per_page(query)
        page = int_param(query, "page", 1)
        last = max(math.ceil(len(comments) / per_page), 1)
        items = comments[(page - 1) * per_page : page * per_page]
        return self._items_reply(items, self._page_links(request, page, last))

    def _get_issue(self, request: Request, repo: RepoState, number: int) -> Reply:
        return json_reply(200, repo.issue(number))

    def _get_issue_reactions(self, request: Request, repo: RepoState, number: int) -> Reply:
        repo.issue(number)
        return json_reply(200, [])

    def _get_comment_reactions(self, request: Request, repo: RepoState, comment_id: int) -> Reply:
        if comment_id not in repo.comments:
            raise ApiError(404, "Not Found")
        return json_reply(200, [])

    def _get_repo(self, request: Request, repo: RepoState) -> Reply:
        owner, name = repo.full_name.split("/", 1)
        open_issues = sum(1 for issue in repo.issues.values() if issue.get("state") == "open")
        return json_reply(
            200,
            {
                "id": repo.id,
                "node_id": f"R_{repo.id}",
                "name": name,
                "full_name": repo.full_name,
                "owner": user_object(owner, None) | {"type": "Organization"},
                "private": False,
                "fork": False,
                "archived": False,
                "has_issues": True,
                "html_url": f"https://github.com/{repo.full_name}",
                "url": f"https://api.github.com/repos/{repo.full_name}",
                "default_branch": "main",
                "open_issues_count": open_issues,
                "created_at": "2010-01-01T00:00:00Z",
                "updated_at": self._clock or None,
                "pushed_at": self._clock or None,
            },
        )

    def _get_user(self, request: Request, login: str) -> Reply:
        return json_reply(200, user_object(login, self._known_users().get(login)))

    def _get_user_orgs(self, request: Request, login: str) -> Reply:
        return json_reply(200, [])

    def _known_users(self) -> dict[str, dict]:
        """login -> user dict as embedded in the corpus (built once, dropped on mutation)."""
        if self._users is None:
            self._users = {}
            for state in self._repos.values():
                for item in chain(
                    state.issues.values(), state.comments.values(), state.events.values()
                ):
                    for user in (
                        item.get("actor"),
                        item.get("user"),
                        item.get("assignee"),
                        *(item.get("assignees") or ()),
                    ):
                        if user and user.get("login"):
                            self._users.setdefault(user["login"], user)
        return self._users


# --------------------------------------------------------------------------
# Synthetic corpus for scale tests
# --------------------------------------------------------------------------

API = "https://api.github.com"
CORPUS_START = 1420070400  # 2015-01-01T00:00:00Z
CORPUS_END = 1703980800  # 2023-12-31T00:00:00Z
BOT_LOGINS = (
    "stale[bot]",
    "dependabot[bot]",
    "github-actions[bot]",
    "codecov[bot]",
    "renovate[bot]",
)
BOT_BODY = (
    "This issue has been automatically marked as stale because it has not had recent activity."
)
HUMAN_BODIES = (
    None,
    "",
    "Thanks! 👍🎉",
    "修复了这个问题，谢谢。",
    "שלום, זה באג — RTL text",
    "Null byte \x00 in the middle",
    "Steps to reproduce:\n```python\nraise ValueError('boom')\n```",
    "LGTM",
    "x" * 4000,
)


def make_user(login: str, user_type: str) -> dict:
    uid = stable_id(login)
    return {
        "login": login,
        "id": uid,
        "node_id": f"U_{uid}",
        "type": user_type,
        "site_admin": False,
        "url": f"{API}/users/{login}",
        "html_url": f"https://github.com/{login}",
    }


def iso(epoch: float) -> str:
    return time.strftime(TS_FORMAT, time.gmtime(epoch))


def bulk_corpus(
    repos: list[str], issues_per_repo: int, comments_per_issue: float, seed: int = 0
) -> dict:
    """Fabricate a large corpus quickly: ~1% null users, bot authors (some "[bot]"
    logins), null bodies, Unicode, 2015-2023 timestamps, and bots posting on a
    daily schedule so many comments share the same second (tie-breaking)."""
    rng = random.Random(seed)
    humans = [make_user(f"user{i}", "User") for i in range(200)]
    bots = [make_user(login, "Bot") for login in BOT_LOGINS]
    corpus = {}
    for index, full_name in enumerate(repos):
        created = sorted(rng.uniform(CORPUS_START, CORPUS_END) for _ in range(issues_per_repo))
        comments, activity = fake_comments(
            rng,
            full_name,
            index,
            created,
            round(issues_per_repo * comments_per_issue),
            humans,
            bots,
        )
        issues = [
            fake_issue(
                rng, full_name, index, number, opened, activity.get(number, []), humans, bots
            )
            for number, opened in enumerate(created, start=1)
        ]
        corpus[full_name] = {"issues": issues, "comments": comments}
    return corpus


def minimum_requests(corpus: dict) -> int:
    """Σ over repositories of ceil(issues/100) + ceil(comments/100): one full page per 100 items."""
    return sum(
        math.ceil(len(data["issues"]) / 100) + math.ceil(len(data["comments"]) / 100)
        for data in corpus.values()
    )


EVENT_LABELS = ("bug", "enhancement", "question", "stale", "triaged", "needs info")


def add_bulk_events(corpus: dict, events_per_issue: float, seed: int = 0) -> dict:
    """Give every issue of a `bulk_corpus` issue events in GitHub's repository-wide shape
    (labeled, unlabeled, assigned, closed at closed_at, reopened, locked, renamed), ids ascending
    with time like GitHub's; a few events share a second, some actors are deleted (null)."""
    rng = random.Random(seed)
    humans = [make_user(f"user{i}", "User") for i in range(200)]
    bots = [make_user(login, "Bot") for login in BOT_LOGINS]
    for index, data in enumerate(corpus.values()):
        drafts = []
        for issue in data["issues"]:
            opened = parse_ts(issue["created_at"]).timestamp()
            until = parse_ts(issue["updated_at"]).timestamp()
            for _ in range(int(rng.expovariate(1 / events_per_issue))):
                drafts.append((int(rng.uniform(opened, until)), issue["number"], None))
            if issue.get("closed_at"):
                drafts.append(
                    (int(parse_ts(issue["closed_at"]).timestamp()), issue["number"], "closed")
                )
        drafts.sort(key=lambda draft: (draft[0], draft[1]))
        base_id = 5 * 10**9 + index * 10**8
        data["events"] = [
            fake_event(rng, base_id + offset, at, number, kind, humans, bots)
            for offset, (at, number, kind) in enumerate(drafts, start=1)
        ]
    return corpus


def minimum_event_requests(corpus: dict) -> int:
    """Σ over repositories of ceil(events/100): one full page per 100 events."""
    return sum(math.ceil(len(data.get("events", [])) / 100) for data in corpus.values())


def fake_event(rng, event_id, at, number, kind, humans, bots) -> dict:
    kind = kind or pick(
        rng, ("labeled", "labeled", "unlabeled", "assigned", "reopened", "renamed", "locked")
    )
    actor = pick_user(rng, humans, bots, bot_share=0.3)
    event = {
        "id": event_id,
        "node_id": f"IE_{event_id}",
        "url": f"{API}/repos/x/y/issues/events/{event_id}",
        "actor": actor,
        "event": kind,
        "commit_id": None,
        "commit_url": None,
        "created_at": iso(at),
        "issue": {"number": number},
        "performed_via_github_app": None,
    }
    if kind in ("labeled", "unlabeled"):
        event["label"] = {"name": pick(rng, EVENT_LABELS), "color": "ededed"}
    elif kind == "assigned":
        event["assignee"] = event["assigner"] = pick(rng, humans)
    elif kind == "closed":
        event["state_reason"] = pick(rng, ("completed", "completed", "not_planned"))
    elif kind == "renamed":
        event["rename"] = {"from": "old title", "to": "new title ✨"}
    elif kind == "locked":
        event["lock_reason"] = pick(rng, (None, "resolved", "spam"))
    return event


def pick(rng: random.Random, options):
    return options[int(rng.random() * len(options))]  # ~5x faster than rng.choice


def pick_user(
    rng: random.Random, humans: list[dict], bots: list[dict], bot_share: float
) -> dict | None:
    roll = rng.random()
    if roll < 0.01:
        return None  # deleted accounts do show up as null users
    return pick(rng, bots) if roll < 0.01 + bot_share else pick(rng, humans)


def fake_comments(rng, full_name, repo_index, created, count, humans, bots):
    """Comments (ids ascending with time, like GitHub) and per-issue last-activity epochs."""
    drafts = []
    for _ in range(count if created else 0):
        number = int(len(created) * rng.random() ** 2) + 1  # older issues gather more comments
        user = pick_user(rng, humans, bots, bot_share=0.2)
        at = min(created[number - 1] + rng.expovariate(1 / (30 * 86400)), CORPUS_END)
        if user is not None and user["type"] == "Bot":
            at = min(at - at % 86400 + 86400 + 3600, CORPUS_END)  # next daily 01:00Z run
        edited = min(at + rng.expovariate(1 / 3600), CORPUS_END) if rng.random() < 0.1 else at
        drafts.append((int(at), number, int(edited), user))
    drafts.sort(key=lambda d: (d[0], d[1]))
    comments, activity = [], {}
    base_id = 10**9 + repo_index * 10**7
    for offset, (at, number, edited, user) in enumerate(drafts, start=1):
        cid = base_id + offset
        created_at = iso(at)
        is_bot = user is not None and user["type"] == "Bot"
        comments.append(
            {
                "url": f"{API}/repos/{full_name}/issues/comments/{cid}",
                "html_url": f"https://github.com/{full_name}/issues/{number}#issuecomment-{cid}",
                "issue_url": f"{API}/repos/{full_name}/issues/{number}",
                "id": cid,
                "node_id": f"IC_{cid}",
                "user": user,
                "created_at": created_at,
                "updated_at": created_at if edited == at else iso(edited),
                "author_association": "NONE",
                "body": BOT_BODY if is_bot else pick(rng, HUMAN_BODIES),
                "reactions": {"total_count": 0},
                "performed_via_github_app": None,
            }
        )
        activity.setdefault(number, []).append(edited)
    return comments, activity


def fake_issue(rng, full_name, repo_index, number, opened, activity, humans, bots) -> dict:
    last = max([opened, *activity])
    closed_at = None
    if rng.random() < 0.6:
        closed_at = iso(min(last + rng.expovariate(1 / (7 * 86400)), CORPUS_END))
    url = f"{API}/repos/{full_name}/issues/{number}"
    issue = {
        "url": url,
        "repository_url": f"{API}/repos/{full_name}",
        "comments_url": f"{url}/comments",
        "html_url": f"https://github.com/{full_name}/issues/{number}",
        "id": repo_index * 10**7 + number,
        "node_id": f"I_{repo_index}_{number}",
        "number": number,
        "title": f"Issue {number}: something ✨ broke",
        "user": pick_user(rng, humans, bots, bot_share=0.05),
        "labels": [],
        "state": "closed" if closed_at else "open",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "comments": len(activity),
        "created_at": iso(opened),
        "updated_at": closed_at or iso(last),
        "closed_at": closed_at,
        "author_association": "NONE",
        "body": pick(rng, HUMAN_BODIES),
        "reactions": {"total_count": 0},
    }
    if rng.random() < 0.3:
        issue["pull_request"] = {
            "url": f"{API}/repos/{full_name}/pulls/{number}",
            "html_url": f"https://github.com/{full_name}/pull/{number}",
        }
    return issue
