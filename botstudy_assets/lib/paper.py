"""The figures Rahman et al. published, in one place: the report, Table I, the funnel and the
summary of `make run` all quote them from here."""

from __future__ import annotations

ISSUES = 68_400
KEYWORD_CANDIDATES = 254
TRUE_POSITIVES = 135
KAPPA = 0.87

# Table I: share (%) of the 135 true positives per category.
PROPORTIONS = {
    "issue_management": 39.4,
    "stale": 28.1,
    "onboarding": 14.1,
    "feedback": 13.3,
    "continuous_integration": 2.2,
    "code_coverage": 0.7,
    "commit_mapping": 0.7,
    "license": 0.7,
    "mention": 0.7,
}


def issue_count(category: str) -> int:
    """Issues of a category in the paper, recovered from its share of the true positives."""
    return round(TRUE_POSITIVES * PROPORTIONS[category] / 100)


FUNNEL_LINE = (
    f"{ISSUES:,} issues → {KEYWORD_CANDIDATES} keyword candidates → {TRUE_POSITIVES} true positives"
)
