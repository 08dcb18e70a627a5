"""Walking a repository's issue events (`GET /repos/{o}/{r}/issues/events`), resumably.

The list differs from the issues and comments lists that `walk.py` walks: it is newest first,
pages by offset (`page=N`, 100 per page), has no `since` and no sort, and GitHub refuses pages
past a depth it does not document (422 "pagination is limited for this resource"). Events never
change once made, so a walk reads from the newest event down until it reaches the newest event
the last complete walk stored (its *horizon*), and stops there.

- **Exactly once, resumable.** Every page is written in one transaction with the walk's state
  (the page in flight, the newest event and ETag of the walk's first page), and rows are upserted
  by (repo, event_id). Events made while a walk runs push older ones to later offsets, so a
  resumed walk may re-read a few (harmless) but never skips one.
- **A refresh with nothing new is one free request.** The first page is revalidated with the
  ETag it had when the last complete walk began; `304 Not Modified` costs no rate limit. Each
  event embeds its issue as it is now, so an edited issue also changes the page: then that one
  page is read and the walk stops at the horizon on it.
- **Where the list cannot reach.** When GitHub refuses a page (422), or the list ends on a full
  page without `next` (how a cap can look), events older than the oldest one read may be out of
  reach. Those are fetched from the per-issue list `GET /repos/{o}/{r}/issues/{n}/events`, one
  request per 100 events of every issue that can have such events: created at or before the
  oldest event read and, on a refresh, updated since the horizon. That costs about one request
  per such issue, so a deep first walk of a large repository costs far more than
  ceil(events/100); the report counts them (`fallback_issues`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from . import parsing
from .endpoints import EVENTS, PER_PAGE
from .github import GitHubClient, GitHubError, PaginationLimit
from .raw_store import RawStore, RawTable, Target
from .walk import RepoReport, counters

Log = Callable[[str], None]

LIST, ISSUES, DONE = "list", "issues", "done"


@dataclass
class EventsState:
    """Where the events walk of one repository stands."""

    # The newest event of the last complete walk: every event up to it is stored.
    horizon_id: int | None = None
    horizon_at: dt.datetime | None = None
    # The first page's ETag when that walk began: a 304 to it proves nothing is new.
    etag: str | None = None
    etag_url: str | None = None
    # The walk in flight: its first page's newest event and ETag, the page to read next.
    top_id: int | None = None
    top_at: dt.datetime | None = None
    top_etag: str | None = None
    next_url: str | None = None
    phase: str = DONE
    # The oldest created_at the repository list reached in this walk.
    reached_at: dt.datetime | None = None
    # The per-issue fallback: the last issue completed and the page in flight of the next.
    fallback_after: int | None = None
    fallback_url: str | None = None
    pages: int = 0
    items: int = 0


FIELDS = tuple(EventsState.__dataclass_fields__)


def load_events_state(table: RawTable) -> EventsState:
    """The stored state, or a fresh one when the source or API changed."""
    stored = table.stored_state()
    if stored is None:
        return EventsState()
    return EventsState(**{name: stored[name] for name in FIELDS if stored.get(name) is not None})


def fallback_issues(store: RawStore, repo: str, state: EventsState, limit: int = 1000) -> list[int]:
    """Issues whose events may lie beyond the list's reach, after the last one completed."""
    frame = store.query(
        "SELECT number FROM raw_issues WHERE repo = ? AND created_at <= ? "
        "AND (?::TIMESTAMP IS NULL OR updated_at >= ?) AND number > ? ORDER BY number LIMIT ?",
        [
            repo,
            state.reached_at,
            state.horizon_at,
            state.horizon_at,
            state.fallback_after if state.fallback_after is not None else -1,
            limit,
        ],
        repos=[repo],
    )
    return frame["number"].to_list()


class EventsWalk:
    """The issue events of one repository, mined from where the last run stopped."""

    def __init__(
        self, client: GitHubClient, store: RawStore, target: Target, log: Log = print
    ) -> None:
        self.client, self.store, self.target, self.log = client, store, target, log
        self.table = store.open(target)
        self.report = RepoReport(repo=target.repo, endpoint=EVENTS.name)
        self._written = 0

    def run(self) -> RepoReport:
        started = time.monotonic()
        before = counters(self.client)
        self.table.forget_other_sources()
        known_before = self.table.count_keys()
        state = load_events_state(self.table)
        resumed = state.phase != DONE
        if state.phase == LIST and state.next_url:
            self.log(f"{self._label}: resuming the events walk after {state.pages} pages")
            self._walk_list(state, state.next_url)
        elif state.phase == ISSUES:
            self.log(f"{self._label}: resuming the per-issue events after #{state.fallback_after}")
        else:
            self._start(state)
        if state.phase == ISSUES:
            self._walk_issues(state)
        if resumed:
            # The interrupted walk is complete as of its start; what came since is on top.
            self._start(state)
            if state.phase == ISSUES:
                self._walk_issues(state)
        # Events never change: a row that was stored already was re-read, not updated.
        self.report.items_new = self.table.count_keys() - known_before
        self.report.items_updated = self._written - self.report.items_new
        self._finish_report(before, started)
        return self.report

    @property
    def _label(self) -> str:
        return self.target.label()

    # ------------------------------------------------------------------ the repository list

    def _start(self, state: EventsState) -> None:
        url = EVENTS.start_url(self.client.api_url, self.target.repo, None)
        etag = state.etag if state.etag_url == url else None
        page = self.client.get_page(url, etag=etag)
        if page.not_modified:
            self.log(f"{self._label}: no new events since {state.horizon_at} (304, free)")
            return
        rows = self._rows(page.items or [])
        newest = max(rows, key=lambda row: row["event_id"], default=None)
        state.top_id = newest["event_id"] if newest else state.horizon_id
        state.top_at = newest["created_at"] if newest else state.horizon_at
        state.top_etag, state.phase, state.reached_at = page.etag, LIST, None
        state.fallback_after = state.fallback_url = None
        state.pages = state.items = 0
        self._walk_list(state, url, first=(page, rows))

    def _walk_list(self, state: EventsState, url: str, first=None) -> None:
        while True:
            if first is not None:
                (page, rows), first = first, None
            else:
                try:
                    page = self.client.get_page(url)
                except PaginationLimit as limit:
                    self.log(f"{self._label}: {limit}; older events come from each issue's list")
                    self._to_fallback(state)
                    return
                rows = self._rows(page.items or [])
            reached = state.horizon_id is not None and any(
                row["event_id"] <= state.horizon_id for row in rows
            )
            oldest = min((row["created_at"] for row in rows), default=None)
            if oldest is not None and (state.reached_at is None or oldest < state.reached_at):
                state.reached_at = oldest
            state.pages, state.items = state.pages + 1, state.items + len(rows)
            self.report.pages += 1
            capped = not page.next_url and len(page.items or []) >= PER_PAGE
            if reached or not page.next_url:
                if reached or not capped or state.reached_at is None:
                    self._complete(state, rows)
                    return
                # A full last page without `next` may be GitHub's cap rather than the end.
                self._store(state, rows, phase=ISSUES)
                self.log(f"{self._label}: the list ends on a full page; checking older issues")
                return
            state.next_url = page.next_url
            self._store(state, rows)
            if state.pages % 20 == 0:
                self.log(f"{self._label}: {state.pages} pages, {state.items} events")
            url = page.next_url

    def _to_fallback(self, state: EventsState) -> None:
        if state.reached_at is None:
            raise GitHubError(f"{self._label}: GitHub refused the first page of issue events")
        self._store(state, [], phase=ISSUES)

    # ------------------------------------------------------------------ the per-issue lists

    def _walk_issues(self, state: EventsState) -> None:
        while numbers := fallback_issues(self.store, self.target.repo, state):
            for number in numbers:
                self._walk_issue(state, number)
        self._complete(state, [])

    def _walk_issue(self, state: EventsState, number: int) -> None:
        url = EVENTS.issue_url(self.client.api_url, self.target.repo, number)
        if state.fallback_url and f"/issues/{number}/events" in state.fallback_url:
            url = state.fallback_url  # the page in flight when the last run stopped
        while True:
            page = self.client.get_page(url)
            self.report.pages += 1
            rows = self._rows(page.items or [], number)
            state.fallback_url = page.next_url
            if not page.next_url:
                state.fallback_after = number
            self._store(state, rows, phase=ISSUES)
            if not page.next_url:
                self.report.fallback_issues += 1
                if self.report.fallback_issues % 500 == 0:
                    self.log(f"{self._label}: events of {self.report.fallback_issues} issues")
                return
            url = page.next_url

    # ------------------------------------------------------------------ storing

    def _rows(self, items: list, number: int | None = None) -> list[dict]:
        row_fn = partial(parsing.event_row, number=number) if number is not None else EVENTS.row_fn
        parsed = parsing.parse_items(self.target.repo, items, row_fn)
        for reject in parsed.rejects:
            self.log(f"skipping a malformed event: {reject}")
        self.report.rejects.extend(parsed.rejects)
        return parsed.rows

    def _complete(self, state: EventsState, rows: list[dict]) -> None:
        """The walk reached the horizon (or the list's end): its first page becomes the new
        horizon and the ETag to revalidate."""
        state.horizon_id, state.horizon_at = state.top_id, state.top_at
        state.etag = state.top_etag
        state.etag_url = EVENTS.start_url(self.client.api_url, self.target.repo, None)
        state.next_url = state.fallback_url = None
        self._store(state, rows, phase=DONE)
        self.log(f"{self._label}: {state.items} events read in {state.pages} pages; up to date")

    def _store(self, state: EventsState, rows: list[dict], phase: str | None = None) -> None:
        if phase is not None:
            state.phase = phase
        if state.phase != LIST:
            state.next_url = None
        self._written += self.table.commit(rows, state)

    def _finish_report(self, before: tuple[int, int, int, int], started: float) -> None:
        requests, not_modified, retries, waits = (
            now - then for now, then in zip(counters(self.client), before, strict=True)
        )
        report = self.report
        report.requests, report.not_modified = requests, not_modified
        report.counted_requests = requests - not_modified
        report.retries, report.rate_limit_waits = retries, waits
        report.rate_remaining = self.client.stats.rate_remaining
        report.seconds = round(time.monotonic() - started, 3)


def mine_events(
    make_client: Callable[[], GitHubClient],
    store: RawStore,
    targets: list[Target],
    *,
    max_concurrent: int,
    log: Log,
) -> list[RepoReport]:
    """Walk the issue events of every target, a bounded number of repositories at a time. A
    repository GitHub refuses reports its error; the others go on."""

    def mine_one(target: Target) -> RepoReport:
        with make_client() as client:
            try:
                return EventsWalk(client, store, target, log=log).run()
            except GitHubError as error:
                log(f"{target.label()}: {error}")
                return RepoReport(repo=target.repo, endpoint=EVENTS.name, error=str(error))

    workers = max(1, min(max_concurrent, len(targets)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="events") as pool:
        return list(pool.map(mine_one, targets))
