"""Finding bots in text: keyword hits, named services, and where a hit sits (prose, code, quote).

Pure functions over strings, shared by the detection and coding stages and tested on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .reference_data import KeywordSettings, Registry

# Fenced code blocks, inline code, <code>/<pre> and e-mail-style quoted lines: a "bot" there is
# a variable, a log line or someone else's words, not the author talking about a bot.
_CODE_SPANS = re.compile(
    r"(```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|<pre>.*?</pre>|<code>.*?</code>|`[^`\n]+`)"
    r"|(^[ \t]*>[^\n]*$)",
    re.DOTALL | re.MULTILINE | re.IGNORECASE,
)
# A reply by e-mail quotes the message it answers below a separator: that part is someone
# else's words (often a bot's notification), not the author's.
_EMAIL_QUOTE = re.compile(
    r"^(On .{5,200}wrote:\s*$|_{8,}\s*\n\s*From: |-{3,}\s*Original Message\s*-{3,})",
    re.MULTILINE | re.IGNORECASE,
)
SNIPPET_RADIUS = 80


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    token: str
    in_code: bool
    in_quote: bool

    @property
    def in_prose(self) -> bool:
        return not (self.in_code or self.in_quote)


def code_and_quote_spans(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    code, quotes = [], []
    for match in _CODE_SPANS.finditer(text):
        (code if match.group(1) is not None else quotes).append(match.span())
    email = _EMAIL_QUOTE.search(text)
    if email:
        quotes.append((email.start(), len(text)))
    return code, quotes


def strip_code(text: str | None) -> str:
    """Text with code and quoted lines blanked, for pattern matching on what the author wrote."""
    if not text:
        return ""
    email = _EMAIL_QUOTE.search(text)
    if email:
        text = text[: email.start()]
    return _CODE_SPANS.sub(" ", text)


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def snippet(text: str, start: int, end: int, radius: int = SNIPPET_RADIUS) -> str:
    left, right = max(0, start - radius), min(len(text), end + radius)
    piece = " ".join(text[left:right].split())
    return ("…" if left else "") + piece + ("…" if right < len(text) else "")


def _word_alternation(words: list[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    ordered = sorted({word.lower() for word in words}, key=len, reverse=True)
    return re.compile(
        r"(?<![a-z0-9])(?:" + "|".join(re.escape(word) for word in ordered) + r")(?![a-z0-9])",
        re.IGNORECASE,
    )


class KeywordMatcher:
    """The paper's keyword search: `bot`/`bots`, tokens ending in `bot`, and `[bot]`."""

    def __init__(self, settings: KeywordSettings) -> None:
        terms = "|".join(re.escape(term) for term in settings.terms)
        self.pattern = re.compile(
            r"(?<![A-Za-z0-9_.@\-])(@?[A-Za-z0-9_.\-]*(?:(?:" + terms + r")s?(?:\[bot\])?|\[bot\]))"
            r"(?![A-Za-z0-9])",
            re.IGNORECASE,
        )
        self.prefilter = "|".join(re.escape(term) for term in settings.terms)
        self.excluded = tuple(token.lower() for token in settings.exclude_tokens)
        self.negative = _word_alternation(settings.negative_context)
        self.development = _word_alternation(settings.development_context)

    def hits(self, text: str | None) -> list[Hit]:
        if not text:
            return []
        code, quotes = code_and_quote_spans(text)
        found = []
        for match in self.pattern.finditer(text):
            token = match.group(1)
            if self._excluded(token):
                continue
            found.append(
                Hit(
                    match.start(1),
                    match.end(1),
                    token,
                    _inside(match.start(1), code),
                    _inside(match.start(1), quotes),
                )
            )
        return found

    def _excluded(self, token: str) -> bool:
        """Whether the token's last word is an excluded one (`robot`, `my-robot`, `nanorobots`);
        a word merely ending in one is not (`probot`, the GitHub App framework, is a bot)."""
        bare = token.lower().lstrip("@").removesuffix("[bot]").rstrip(".-_")
        last = re.split(r"[-_.]", bare)[-1]
        return last in self.excluded or last.removesuffix("s") in self.excluded

    def context(self, text: str, hit: Hit, radius: int = 60) -> tuple[bool, bool]:
        """(negative, development): what the words around a hit point to."""
        window = text[max(0, hit.start - radius) : hit.end + radius]
        token = hit.token.lower()
        negative = bool(
            self.negative
            and (self.negative.search(window) or self.negative.fullmatch(token.lstrip("@")))
        )
        development = bool(self.development and self.development.search(window))
        return negative, development


class NameMatcher:
    """Prose naming a registry bot or automation service ("codecov", "Dr. CI", "stale bot")."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.terms = registry.name_terms

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        return _word_alternation(list(self.terms))

    def names(self, text: str | None) -> list[tuple[Hit, str]]:
        """Each prose mention with the registry entry it names."""
        if not text or self.pattern is None:
            return []
        code, quotes = code_and_quote_spans(text)
        found = []
        for match in self.pattern.finditer(text):
            entry = self.terms[match.group(0).lower()]
            hit = Hit(
                match.start(),
                match.end(),
                match.group(0),
                _inside(match.start(), code),
                _inside(match.start(), quotes),
            )
            found.append((hit, entry.name))
        return found
