"""Beyond the paper on the embedded sample: the tables recover what the generator put in (stale
thresholds per era, counts from the sample's own event files), and the rules on small cases."""

import datetime as dt
import gzip
import json
from collections import Counter

import polars as pl
import pytest

from botstudy_assets.lib import interactions as ix
from botstudy_assets.lib.reference_data import load_friction_lexicon
from botstudy_assets.lib.settings import DEFAULT_DATA_DIR
from botstudy_dev.synthetic import STALE_ERAS, STALE_LABELS

SAMPLE = DEFAULT_DATA_DIR / "sample"
LEXICON = load_friction_lexicon(DEFAULT_DATA_DIR / "friction_lexicon.yaml")


def sample_events(repo: str) -> list[dict]:
    path = SAMPLE / repo.replace("/", "__") / "events.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return sorted(json.load(handle), key=lambda e: (e["created_at"], e["id"]))


def expected_stale_counts(repo: str, bot: str) -> dict[str, int]:
    """Counted straight from the sample's event file: marks, the bot's closes of marked issues,
    reopenings after them, and marks the bot lifted while the issue was open."""
    marked, closed, counts = set(), set(), Counter()
    label = STALE_LABELS[bot]
    for event in sample_events(repo):
        number, actor = event["issue"]["number"], (event["actor"] or {}).get("login")
        name = (event.get("label") or {}).get("name")
        if actor == bot and event["event"] == "labeled" and name == label:
            counts["n_marked"] += 1
            marked.add(number)
        elif event["event"] == "closed" and number in marked:
            counts["n_closed_by_bot" if actor == bot else "n_closed_by_other"] += 1
            marked.discard(number)
            closed.add(number) if actor == bot else None
        elif event["event"] == "reopened" and number in closed:
            counts["n_reopened_after_close"] += 1
            closed.discard(number)
        elif event["event"] == "unlabeled" and name == label and number in marked:
            counts["n_unmarked"] += 1
            marked.discard(number)
    return dict(counts)


def era_of(bot: str, moment: dt.datetime) -> int:
    starts = [
        dt.datetime.fromtimestamp(start, dt.UTC).replace(tzinfo=None)
        for start, *_ in STALE_ERAS[bot]
    ]
    return sum(1 for start in starts if start <= moment)


def test_stale_policy_recovers_the_samples_counts_and_thresholds(sample_run):
    run, _ = sample_run
    frame = pl.DataFrame(
        run.sql("SELECT * FROM stale_policy"),
        schema=[name for (name,) in run.sql("SELECT column_name FROM (DESCRIBE stale_policy)")],
        orient="row",
    )
    assert set(frame["bot"]) == set(STALE_ERAS)
    for row in frame.iter_rows(named=True):
        expected = expected_stale_counts(row["repo"], row["bot"])
        for name, value in expected.items():
            assert row[name] == value, (row["repo"], row["bot"], name)
        assert (
            row["n_marked"]
            == sum(
                expected.get(k, 0) for k in ("n_closed_by_bot", "n_closed_by_other", "n_unmarked")
            )
            + row["n_still_marked"]
        )
        eras = STALE_ERAS[row["bot"]]
        assert row["n_eras"] == len(eras), row
        for found, (_start, mark_days, close_days) in zip(row["eras"], eras, strict=True):
            # Marks come T days and minutes after the last human post; closes C days after.
            assert round(found["mark_after_days_median"]) == mark_days, row
            assert round(found["close_after_days_median"]) == close_days, row


def test_two_eras_of_one_stale_bot_split_at_the_policy_change(sample_run):
    run, _ = sample_run
    ((eras,),) = run.sql(
        "SELECT eras FROM stale_policy WHERE repo = 'keras-team/keras' AND bot = 'stale[bot]'"
    )
    change = dt.datetime.fromtimestamp(STALE_ERAS["stale[bot]"][1][0], dt.UTC).replace(tzinfo=None)
    assert eras[0]["end"] < change <= eras[1]["start"]


def test_bot_actions_cover_every_bot_event_and_post(sample_run):
    run, _ = sample_run
    ((events,),) = run.sql(
        "SELECT count(*) FROM raw_issue_events e JOIN bot_accounts b ON b.login = e.actor_login "
        "WHERE b.is_bot"
    )
    ((comments,),) = run.sql(
        "SELECT count(*) FROM raw_issue_comments c JOIN bot_accounts b ON b.login = c.author_login "
        "WHERE b.is_bot"
    )
    ((opened,),) = run.sql(
        "SELECT count(*) FROM raw_issues i JOIN bot_accounts b ON b.login = i.author_login "
        "WHERE b.is_bot"
    )
    ((actions,),) = run.sql("SELECT count(*) FROM bot_actions")
    assert actions == events + comments + opened
    kinds = {kind for (kind,) in run.sql("SELECT DISTINCT action FROM bot_actions")}
    assert {"comment", "label", "unlabel", "close"} <= kinds


def test_who_closed_and_reopenings_after_bot_closes(sample_run):
    run, _ = sample_run
    roles = dict(run.sql("SELECT closer_role, count(*) FROM issue_closures GROUP BY 1"))
    assert roles.get("bot", 0) > 0 and roles.get("author", 0) > 0 and roles.get("other", 0) > 0
    ((reopened,),) = run.sql(
        "SELECT count(*) FROM issue_closures WHERE closer_role = 'bot' AND reopened"
    )
    ((served,),) = run.sql("SELECT sum(n_reopened_after_close) FROM stale_policy")
    assert reopened >= served > 0


def test_friction_replies_are_found_and_quoted_with_links(sample_run):
    run, tmp = sample_run
    rows = run.sql(
        "SELECT bot, friction_markers, reply_snippet, reply_url FROM bot_reactions WHERE friction"
    )
    assert rows and all(url and url.startswith("https://github.com/") for *_, url in rows)
    markers = Counter(marker for _, found, _, _ in rows for marker in found)
    assert markers["please_reopen"] and markers["not_stale"]
    ((down,),) = run.sql("SELECT sum(reactions_minus1) FROM bot_reactions")
    assert down > 0
    report = (tmp / "reports" / "botstudy_report.md").read_text(encoding="utf-8")
    assert "## Beyond the paper" in report and "beyond_stale_thresholds.png" in report
    for name in ("beyond_timeline.png", "beyond_stale_thresholds.png", "beyond_friction.png"):
        assert (tmp / "reports" / name).read_bytes()[:4] == b"\x89PNG"


def test_timeline_shows_adoption_and_replacement(sample_run):
    run, _ = sample_run
    spans = {
        bot: (first, last)
        for bot, first, last in run.sql(
            "SELECT bot, min(first_activity), max(last_activity) FROM bot_timeline "
            "WHERE repo = 'tensorflow/tensorflow' GROUP BY 1"
        )
    }
    # tensorflowbutler's era ends about when google-ml-butler's begins.
    assert spans["tensorflowbutler"][0] < spans["google-ml-butler[bot]"][0]
    assert spans["google-ml-butler[bot]"][0] < spans["tensorflowbutler"][1] + dt.timedelta(days=400)


def test_effects_are_associations_with_intervals(sample_run):
    run, _ = sample_run
    rows = run.sql(
        "SELECT analysis, term, estimate, ci_low, ci_high, interpretation FROM bot_effects "
        "WHERE ci_low IS NOT NULL"
    )
    assert {analysis for analysis, *_ in rows} == {"touched_vs_untouched", "adoption"}
    assert all(
        low <= estimate <= high and "association" in text
        for _, _, estimate, low, high, text in rows
    )


# ------------------------------------------------------------------------- rules, small cases


def thread(*rows) -> ix.Interactions:
    """One issue (a/b#1 by `alice`) with posts and events given as (minutes, login, what)."""
    t0 = dt.datetime(2020, 1, 1)
    posts, events = (
        [("a/b", 1, 0, "open", "alice", t0, None, "u", None, None, None, None, None)],
        [],
    )
    for k, (minutes, login, what, *extra) in enumerate(rows, start=1):
        at = t0 + dt.timedelta(minutes=minutes)
        if what == "comment":
            posts.append(
                (
                    "a/b",
                    1,
                    k,
                    "comment",
                    login,
                    at,
                    extra[0] if extra else "",
                    f"https://github.com/a/b/issues/1#issuecomment-{k}",
                    1,
                    0,
                    1,
                    0,
                    0,
                )
            )
        else:
            events.append(("a/b", 1, k, what, login, extra[0] if extra else None, None, at))
    post_cols = [
        "repo",
        "number",
        "comment_id",
        "kind",
        "author_login",
        "created_at",
        "body",
        "html_url",
        "reactions_total",
        "reactions_plus1",
        "reactions_minus1",
        "reactions_confused",
        "reactions_heart",
    ]
    return ix.Interactions(
        issues=pl.DataFrame(
            [("a/b", 1, "alice", t0, None, "open", None, False, "u")],
            schema=[
                "repo",
                "number",
                "author_login",
                "created_at",
                "closed_at",
                "state",
                "state_reason",
                "is_pull_request",
                "html_url",
            ],
            orient="row",
        ),
        posts=pl.DataFrame(posts, schema=post_cols, orient="row"),
        events=pl.DataFrame(
            events,
            schema={
                "repo": pl.String,
                "number": pl.Int64,
                "event_id": pl.Int64,
                "event": pl.String,
                "actor_login": pl.String,
                "label_name": pl.String,
                "state_reason": pl.String,
                "created_at": pl.Datetime("us"),
            },
            orient="row",
        ),
        bots=pl.DataFrame(
            {"login": ["stale[bot]"], "kind": ["github_app"], "registry_name": ["stale"]}
        ),
    )


DAY = 24 * 60


@pytest.mark.parametrize(
    "after, outcome",
    [
        ([(31 * DAY, "stale[bot]", "closed")], "closed_by_bot"),
        (
            [
                (5 * DAY, "bob", "comment", "still an issue"),
                (5 * DAY + 9, "stale[bot]", "unlabeled", "stale"),
            ],
            "unmarked_after_reply",
        ),
        ([(5 * DAY, "carol", "unlabeled", "stale")], "unmarked_otherwise"),
        ([(2 * DAY, "carol", "closed")], "closed_by_other"),
        ([], "still_marked"),
    ],
)
def test_a_mark_ends_by_close_unlabel_or_not_at_all(after, outcome):
    # alice's last post is the issue itself; carol labels it a day later (human activity).
    data = thread(
        (DAY, "carol", "labeled", "bug"),
        (61 * DAY, "stale[bot]", "labeled", "stale"),
        *[(61 * DAY + m, *rest) for m, *rest in after],
    )
    marks = ix.stale_marks(data, LEXICON)
    assert marks["outcome"].to_list() == [outcome]
    assert marks["inactive_days"][0] == pytest.approx(60.0)  # from carol's label, not the post


def test_the_next_human_reply_within_the_window_carries_friction():
    data = thread(
        (10, "stale[bot]", "comment", "marked as stale"),
        (70, "alice", "comment", "Seriously? Please reopen."),
        (90, "bob", "comment", "+1"),
    )
    actions = ix.bot_actions(data)
    reactions = ix.bot_reactions(data, actions, LEXICON)
    row = reactions.row(0, named=True)
    assert row["reply_by_author"] and row["reply_latency_hours"] == pytest.approx(1.0)
    assert row["friction_markers"] == ["please_reopen", "exasperation"]
    assert row["reactions_minus1"] == 1


def test_eras_need_enough_marks_and_a_real_change():
    def marks(days):
        return pl.DataFrame(
            {"inactive_days": days, "close_after_days": [None] * len(days)},
            schema={"inactive_days": pl.Float64, "close_after_days": pl.Float64},
        )

    assert len(ix.policy_eras(marks([30.0] * 5 + [14.0] * 5))) == 2
    assert len(ix.policy_eras(marks([30.0] * 5 + [14.0]))) == 1  # one mark is no new era
    assert len(ix.policy_eras(marks([30.0, 30.4, 29.8, 30.2, 30.1, 29.9]))) == 1  # noise
