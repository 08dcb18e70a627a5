"""Bot work that shows without a bot posting: the codebook's traces (a bot's template quoted or
posted from a person's account, a command addressed to a bot, the automation's name or its
configuration file) and the labels bots apply (`stale`, `cla: yes`, `ciflow/trunk`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from .reference_data import Codebook, Trace
from .textmatch import code_and_quote_spans, snippet


@dataclass(frozen=True)
class TraceHit:
    category: str | None  # None: automation of no particular category
    rule: str
    matched: str
    snippet: str
    in_code: bool = False
    weak: bool = False


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


# A post that reproduces another thread's message ("Originally posted by @x in #12") shows no
# bot work in this thread.
_COPIED = re.compile(r"(?<![a-z])originally posted by @[\w\[\]-]+ in\b", re.IGNORECASE)


class TraceMatcher:
    """The codebook's traces and bot labels, compiled once."""

    def __init__(self, codebook: Codebook) -> None:
        self.traces: list[tuple[str | None, Trace]] = [
            (category.name, trace) for category in codebook.categories for trace in category.traces
        ] + [(None, trace) for trace in codebook.automation_traces]
        self.labels = [
            (category.name, pattern, weak)
            for category in codebook.categories
            for pattern, weak in category.compiled_labels
        ]

    def prefilter(self, texts: pl.Series) -> pl.Series:
        """Which texts may hold a trace, searched vectorised (Rust regex); a pattern that Rust
        regex cannot compile is searched with Python's."""
        texts = texts.fill_null("")
        found = pl.Series([False] * len(texts))
        for _, trace in self.traces:
            try:
                hits = texts.str.contains("(?i)" + trace.pattern)
            except pl.exceptions.ComputeError:
                hits = texts.map_elements(
                    lambda text, t=trace: bool(t.compiled.search(text)), return_dtype=pl.Boolean
                )
            found = found | hits
        return found

    def reproduces_a_message(self, text: str | None, *, by_bot: bool) -> bool:
        """Whether a person's post copies a message from another thread or posts a bot's
        template as its own words: then nothing in it is bot work of this thread."""
        if not text or by_bot:
            return False
        if _COPIED.search(text):
            return True
        code, quotes = code_and_quote_spans(text)
        return any(
            self._first(trace, text, code + quotes, quotes, False) is _CANNED
            for _, trace in self.traces
            if trace.who == "bot"
        )

    def in_text(
        self, text: str | None, *, pull_request: bool, by_bot: bool = False, title: bool = False
    ) -> list[TraceHit]:
        """Every trace in one post (at most one hit per trace). A person's post that copies a
        message from elsewhere, or posts a bot's template as its own words, shows none."""
        if not text or _COPIED.search(text):
            return []
        code, quotes = code_and_quote_spans(text)
        hidden = code + quotes
        hits = []
        for category, trace in self.traces:
            if trace.threads != "any" and (trace.threads == "pull_request") != pull_request:
                continue
            if trace.posts == "title" and not title:
                continue
            hit = self._first(trace, text, hidden, quotes, by_bot)
            if hit is _CANNED:
                return []
            if hit is not None:
                hits.append(
                    TraceHit(
                        category,
                        f"trace: {trace.pattern}",
                        hit.group(0),
                        snippet(text, hit.start(), hit.end()),
                        _inside(hit.start(), hidden),
                        trace.strength == "weak",
                    )
                )
        return hits

    def _first(
        self,
        trace: Trace,
        text: str,
        hidden: list[tuple[int, int]],
        quotes: list[tuple[int, int]],
        by_bot: bool,
    ):
        """The trace's first counting match; _CANNED for a bot's template in a person's words."""
        for match in trace.compiled.finditer(text):
            inside = _inside(match.start(), hidden)
            if trace.who == "bot" and not by_bot:
                if _inside(match.start(), quotes):
                    return match
                if not inside:
                    return _CANNED
                continue
            if inside and trace.where == "prose":
                continue
            return match
        return None

    def in_labels(self, labels: list[str] | None) -> list[TraceHit]:
        """Every label a bot applies for some category (a label may serve two categories)."""
        hits = []
        for label in labels or []:
            for category, pattern, weak in self.labels:
                if pattern.fullmatch(label.strip()):
                    hits.append(
                        TraceHit(
                            category,
                            f"label: {pattern.pattern}",
                            label,
                            f"label “{label}”",
                            weak=weak,
                        )
                    )
        return hits


_CANNED = object()
