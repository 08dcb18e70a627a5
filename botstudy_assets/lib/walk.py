"""Walking GitHub's repository-wide list endpoints, resumably and with as few requests as can be.

Each endpoint is sorted by `updated` ascending, so that one request brings 100 items and a
watermark of the last `updated_at` seen is all a refresh needs. Each page is written together
with the walk's state (next URL, watermark, ETag) in one transaction: a run killed midway resumes
at the page in flight, and upserts keyed by the endpoint's key make a refetched page harmless.

A refresh first revalidates a one-item probe, the most recently updated item (`direction=desc`,
`per_page=1`), against the ETag stored when the last walk ended: any change anywhere makes a new
newest item, so a 304 (which costs no rate limit) proves nothing changed. Revalidating the
`since=<watermark>` page instead would not: GitHub's `since` is inclusive and second-grained, so
that page is the items tied at the watermark, and with more than 100 ties a change lands on a
later page while the first still answers 304.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from . import parsing
from .endpoints import PER_PAGE, Endpoint
from .github import GitHubClient, GitHubError, PaginationLimit
from .raw_store import RawStore, RawTable, Target, WalkState

Log = Callable[[str], None]


@dataclass(frozen=True)
class Probe:
    """What the probe (the most recently updated item) showed: its ETag and its updated_at."""

    etag: str | None
    newest: dt.datetime | None


@dataclass
class RepoReport:
    repo: str
    endpoint: str
    pages: int = 0
    items_new: int = 0
    items_updated: int = 0
    rejects: list[str] = field(default_factory=list)
    requests: int = 0
    counted_requests: int = 0
    not_modified: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    rate_remaining: int | None = None
    window_restarts: int = 0
    fallback_issues: int = 0  # issue events: issues whose own list was read (see events_walk)
    seconds: float = 0.0
    error: str | None = None


def _max_updated(rows: list[dict]) -> dt.datetime | None:
    return max((row["updated_at"] for row in rows), default=None)


class EndpointWalk:
    """One endpoint of one repository, mined from where the last run stopped."""

    def __init__(
        self,
        client: GitHubClient,
        store: RawStore,
        target: Target,
        *,
        window_items: int | None = None,
        log: Log = lambda message: None,
    ) -> None:
        self.client, self.target, self.log = client, target, log
        self.table: RawTable = store.open(target)
        # Only windowed endpoints restart at `since`; the others follow their cursor links.
        self.window_items = window_items if target.endpoint.windowed else None
        self.report = RepoReport(repo=target.repo, endpoint=target.endpoint.name)
        self.probe: Probe | None = None

    @property
    def endpoint(self) -> Endpoint:
        return self.target.endpoint

    def run(self) -> RepoReport:
        started, before = time.monotonic(), counters(self.client)
        self.table.forget_other_sources()
        state = load_state(self.table)
        url = self._first_url(state)
        if url is not None:
            self._walk(state, url)
            self._remember_probe(state)
        self._finish_report(before, started)
        return self.report

    def _first_url(self, state: WalkState) -> str | None:
        """Where the walk starts: the page in flight, else the watermark; None if the probe says
        nothing changed."""
        if state.next_url:
            self.log(
                f"{self.target.label()}: resuming an interrupted walk at page {state.pages + 1}"
            )
            return state.next_url
        self.probe = self._take_probe(state)
        if self.probe is None:
            self.log(f"{self.target.label()}: nothing updated since {state.watermark} (304, free)")
            return None
        state.window_since, state.window_items = state.watermark, 0
        return self.endpoint.start_url(self.client.api_url, self.target.repo, state.watermark)

    def _walk(self, state: WalkState, url: str) -> None:
        # Everything updated before the stored watermark is stored, so an item created after it
        # is new and any other is an update (counting by key lookups would scan the table).
        known_until = state.watermark
        while True:
            try:
                page = self.client.get_page(url)
            except PaginationLimit as limit:
                if state.watermark is None or state.watermark == state.window_since:
                    raise GitHubError(
                        f"{self.target.label()}: {limit} and no progress possible"
                    ) from limit
                self.log(f"{self.target.label()}: {limit}; restarting from since={state.watermark}")
                url = self._restart_window(state)
                continue
            rows = self._rows(page.items or [])
            self._advance(state, rows, len(page.items or []), page.next_url)
            self._store(state, rows, known_until)
            if self.report.pages % 20 == 0 or not state.next_url:
                self.log(
                    f"{self.target.label()}: page {state.pages}, {state.items} items, "
                    f"rate limit remaining {self.client.stats.rate_remaining}"
                )
            if not state.next_url:
                return
            url = state.next_url

    def _rows(self, items: list) -> list[dict]:
        parsed = parsing.parse_items(self.target.repo, items, self.endpoint.row_fn)
        for reject in parsed.rejects:
            self.log(f"skipping a malformed item: {reject}")
        self.report.rejects.extend(parsed.rejects)
        return parsed.rows

    def _advance(
        self, state: WalkState, rows: list[dict], n_items: int, next_url: str | None
    ) -> None:
        """Move the state past one page and decide where the next page is."""
        newest = _max_updated(rows)
        if newest is not None and (state.watermark is None or newest > state.watermark):
            state.watermark = newest
        state.window_items += n_items
        state.pages += 1
        state.items += n_items
        state.next_url = next_url
        state.etag = state.etag_url = None  # stale once items moved; stored again at the end
        window = self.window_items
        moved = state.watermark != state.window_since
        if state.next_url and window and state.window_items + PER_PAGE > window and moved:
            # Start a new `since` window before GitHub's deep-pagination cap answers 422.
            state.next_url = self._restart_window(state)
        elif (
            not state.next_url
            and window
            and n_items == PER_PAGE
            and moved
            and not self._reached(state)
        ):
            # A full last page may be GitHub's pagination cap rather than the end (it stops
            # offering rel="next" there): look once more from the watermark.
            state.next_url = self._restart_window(state)

    def _store(self, state: WalkState, rows: list[dict], known_until: dt.datetime | None) -> None:
        written = self.table.commit(rows, state)
        new = min(
            written,
            sum(1 for row in rows if known_until is None or row["created_at"] > known_until),
        )
        self.report.pages += 1
        self.report.items_new += new
        self.report.items_updated += written - new

    def _take_probe(self, state: WalkState | None = None) -> Probe | None:
        """Fetch the probe, revalidating the ETag the last walk stored; None on a (free) 304."""
        url = self.endpoint.probe_url(self.client.api_url, self.target.repo)
        etag = state.etag if state is not None and state.etag_url == url else None
        page = self.client.get_page(url, etag=etag)
        if page.not_modified:
            return None
        items = (page.items or [])[:1]
        newest = _max_updated(
            parsing.parse_items(self.target.repo, items, self.endpoint.row_fn).rows
        )
        return Probe(page.etag, newest)

    def _reached(self, state: WalkState) -> bool:
        """Whether the walk has stored the newest item the probe showed before it began."""
        probe = self.probe
        return (
            probe is not None
            and probe.newest is not None
            and state.watermark is not None
            and state.watermark >= probe.newest
        )

    def _remember_probe(self, state: WalkState) -> None:
        """Store the probe's ETag for the next refresh, if its newest item is the one just stored.

        The probe taken before the walk serves when nothing changed during the walk; otherwise
        one more (counted) request takes a fresh one. A newest item that is still not the
        watermark (an update after the walk, or a server that ignores `direction=desc`) stores
        no ETag: the next refresh then walks from the watermark, which is always correct.
        """
        probe = self.probe
        if probe is None or probe.newest != state.watermark:
            probe = self._take_probe()  # sent without an ETag: never a 304, never None
        if probe is not None and probe.etag and probe.newest == state.watermark:
            state.etag = probe.etag
            state.etag_url = self.endpoint.probe_url(self.client.api_url, self.target.repo)
        else:
            self.log(
                f"{self.target.label()}: the newest item is not the watermark "
                f"{state.watermark}; the next refresh walks from the watermark"
            )
            state.etag = state.etag_url = None
        self.table.commit([], state)

    def _restart_window(self, state: WalkState) -> str:
        state.window_since, state.window_items = state.watermark, 0
        self.report.window_restarts += 1
        return self.endpoint.start_url(self.client.api_url, self.target.repo, state.window_since)

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


def counters(client: GitHubClient) -> tuple[int, int, int, int]:
    """The client's running totals that a report takes the difference of."""
    stats = client.stats
    return stats.requests, stats.not_modified, stats.retries, stats.rate_limit_waits


def load_state(table: RawTable) -> WalkState:
    """The walk's stored state, or a fresh one when the source or API changed, or when it was
    written by a version that mined only up to BOTSTUDY_UNTIL (its rows stop at that day)."""
    stored = table.stored_state()
    if stored is None:
        return WalkState()
    fields = {name: stored.get(name) for name in WalkState.__dataclass_fields__}
    return WalkState(**{name: value for name, value in fields.items() if value is not None})


def mine_repositories(
    make_client: Callable[[], GitHubClient],
    store: RawStore,
    targets: list[Target],
    *,
    max_concurrent: int,
    window_items: int | None,
    log: Log,
) -> list[RepoReport]:
    """Walk every target, a bounded number of repositories at a time, each one serially. A
    repository whose walk GitHub refuses reports its error; the others go on."""

    def mine_one(target: Target) -> RepoReport:
        with make_client() as client:
            try:
                return EndpointWalk(client, store, target, window_items=window_items, log=log).run()
            except GitHubError as error:
                log(f"{target.label()}: {error}")
                return RepoReport(repo=target.repo, endpoint=target.endpoint.name, error=str(error))

    workers = max(1, min(max_concurrent, len(targets)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="miner") as pool:
        return list(pool.map(mine_one, targets))
