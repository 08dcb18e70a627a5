"""Checks of the interaction tables: keys, known kinds, non-negative durations, counts that add
up; the blocking ones stop the report on bad data."""

import dagster as dg

from botstudy_assets.defs.common import check_result
from botstudy_assets.defs.resources import LakeResource, StudyResource, WarehouseResource
from botstudy_assets.lib.interactions import CLOSER_ROLES, KNOWN_ACTIONS, METRICS
from botstudy_assets.lib.quality import CheckOutcome, Expectation, run_expectations

EVENT_KINDS = sorted(
    {
        "labeled",
        "unlabeled",
        "closed",
        "reopened",
        "assigned",
        "unassigned",
        "locked",
        "unlocked",
        "renamed",
        "merged",
        "milestoned",
        "demilestoned",
        "marked_as_duplicate",
        "unmarked_as_duplicate",
        "referenced",
        "mentioned",
        "subscribed",
        "unsubscribed",
        "head_ref_deleted",
        "head_ref_restored",
        "head_ref_force_pushed",
        "review_requested",
        "review_request_removed",
        "review_dismissed",
        "pinned",
        "unpinned",
        "transferred",
        "converted_note_to_issue",
        "converted_to_discussion",
        "connected",
        "disconnected",
        "added_to_project",
        "moved_columns_in_project",
        "removed_from_project",
        "comment_deleted",
        "base_ref_changed",
        "base_ref_force_pushed",
        "ready_for_review",
        "convert_to_draft",
        "auto_merge_enabled",
        "auto_merge_disabled",
        "deployed",
        "deployment_environment_changed",
        "automatic_base_change_succeeded",
        "automatic_base_change_failed",
        "user_blocked",
        "locked_conversation",
        "sub_issue_added",
        "sub_issue_removed",
        "parent_issue_added",
        "parent_issue_removed",
        "issue_type_added",
        "issue_type_changed",
        "issue_type_removed",
        "copilot_work_started",
    }
)


def _not_null(*columns: str) -> list[Expectation]:
    return [Expectation("ExpectColumnValuesToNotBeNull", column=column) for column in columns]


def _at_least_zero(*columns: str) -> list[Expectation]:
    return [
        Expectation("ExpectColumnValuesToBeBetween", column=column, min_value=0)
        for column in columns
    ]


RAW_EVENTS_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "event_id"]),
    *_not_null("repo", "event_id", "issue_number", "event", "actor_login", "created_at"),
]
BOT_ACTIONS_EXPECTATIONS = [
    *_not_null("repo", "number", "bot", "action", "created_at"),
    Expectation(
        "ExpectColumnValuesToBeInSet", column="action", value_set=[*KNOWN_ACTIONS, *EVENT_KINDS]
    ),
]
ISSUE_CLOSURES_EXPECTATIONS = [
    *_not_null("repo", "number", "closed_at", "closer_role"),
    Expectation("ExpectColumnValuesToBeInSet", column="closer_role", value_set=CLOSER_ROLES),
    *_at_least_zero("reopened_after_days"),
]
STALE_POLICY_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "bot"]),
    Expectation("ExpectColumnValuesToBeBetween", column="n_marked", min_value=1),
    *_at_least_zero(
        "mark_after_days_median",
        "mark_after_days_p25",
        "close_after_days_median",
        "close_after_days_p25",
        "n_closed_by_bot",
        "n_unmarked",
        "n_reopened_after_close",
    ),
]
BOT_REACTIONS_EXPECTATIONS = [
    *_not_null("repo", "number", "bot", "action"),
    *_at_least_zero("reply_latency_hours", "reactions_minus1"),
]
BOT_TIMELINE_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "bot", "month"]),
    *_at_least_zero("posts", "actions", "threads"),
    Expectation(
        "ExpectColumnValuesToBeBetween", column="year_issue_share_pct", min_value=0, max_value=100
    ),
]
BOT_EFFECTS_EXPECTATIONS = [
    Expectation(
        "ExpectColumnValuesToBeInSet",
        column="analysis",
        value_set=["touched_vs_untouched", "adoption"],
    ),
    Expectation("ExpectColumnValuesToBeInSet", column="metric", value_set=list(METRICS)),
    Expectation("ExpectColumnValuesToMatchRegex", column="interpretation", regex="association"),
    *_at_least_zero("estimate", "n"),
]


@dg.asset_check(
    asset="raw_issue_events",
    blocking=True,
    description="One row per (repo, event_id), required fields present; event kinds GitHub "
    "documents (a new kind warns in the table, it does not block).",
)
def raw_issue_events_valid(study: StudyResource, lake: LakeResource) -> dg.AssetCheckResult:
    store, repos = lake.get(), study.get().repo_list()
    frame = store.query(
        "SELECT repo, event_id, issue_number, event, actor_login, created_at FROM raw_issue_events",
        repos=repos,
    )
    unknown = store.query(
        "SELECT event, count(*) AS n FROM raw_issue_events WHERE NOT list_contains(?, event) "
        "GROUP BY 1 ORDER BY 2 DESC",
        [EVENT_KINDS],
        repos=repos,
    )
    outcome = run_expectations(
        "raw_issue_events",
        frame,
        RAW_EVENTS_EXPECTATIONS,
        allow_empty=True,
    )
    return check_result(outcome, unknown_event_kinds=unknown.rows()[:20])


@dg.asset_check(
    asset="bot_actions",
    blocking=True,
    description="Known actions, a bot and a time on every row, one row per event or post.",
)
def bot_actions_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT repo, number, bot, action, created_at, event_id FROM bot_actions")
    duplicated = db.scalar(
        "SELECT count(*) - count(DISTINCT (repo, event_id)) FROM bot_actions "
        "WHERE event_id IS NOT NULL"
    )
    not_bots = db.scalar(
        "SELECT count(*) FROM bot_actions a ANTI JOIN (SELECT login FROM bot_accounts "
        "WHERE is_bot) b ON b.login = a.bot"
    )
    extra = [f"{duplicated} events appear twice"] if duplicated else []
    extra += [f"{not_bots} actions of accounts bot_accounts does not call bots"] if not_bots else []
    return check_result(
        run_expectations(
            "bot_actions",
            frame,
            BOT_ACTIONS_EXPECTATIONS,
            extra_failures=extra,
            allow_empty=True,
        )
    )


@dg.asset_check(
    asset="issue_closures",
    blocking=True,
    description="Known closer roles, non-negative reopening delays, one row per close event.",
)
def issue_closures_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    frame = warehouse.get().query(
        "SELECT repo, number, closed_at, closer_role, reopened_after_days, event_id "
        "FROM issue_closures"
    )
    return check_result(
        run_expectations(
            "issue_closures",
            frame,
            ISSUE_CLOSURES_EXPECTATIONS,
            allow_empty=True,
        )
    )


@dg.asset_check(
    asset="stale_policy",
    blocking=True,
    description="One row per (repo, bot); outcomes add up to the marks; non-negative "
    "thresholds; eras cover every mark.",
)
def stale_policy_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT * EXCLUDE (eras, stale_labels) FROM stale_policy")
    unbalanced = db.query(
        "SELECT repo, bot FROM stale_policy WHERE n_marked <> n_closed_by_bot + "
        "n_closed_by_other + n_unmarked + n_unmarked_otherwise + n_still_marked "
        "OR n_reopened_after_close > n_closed_by_bot "
        "OR n_marked <> list_sum([era.n_marked FOR era IN eras]) OR n_eras <> len(eras)"
    )
    extra = [f"counts do not add up for {unbalanced.rows()}"] if unbalanced.height else []
    # An empty table is fine: a repository may have no stale bot.
    return check_result(
        run_expectations(
            "stale_policy",
            frame,
            STALE_POLICY_EXPECTATIONS,
            extra_failures=extra,
            allow_empty=True,
        )
        if frame.height
        else _empty_ok("stale_policy", extra)
    )


def _empty_ok(table: str, extra: list[str]) -> CheckOutcome:
    return CheckOutcome(
        passed=not extra,
        description="; ".join(extra) or f"{table} is empty: no stale bot found",
        rows_checked=0,
        expectations=0,
        problems=tuple(extra),
        results_md="",
    )


@dg.asset_check(
    asset="bot_reactions",
    blocking=True,
    description="One row per bot action; replies after the action; friction only on replies.",
)
def bot_reactions_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query(
        "SELECT repo, number, bot, action, reply_latency_hours, reactions_minus1 FROM bot_reactions"
    )
    actions = db.scalar("SELECT count(*) FROM bot_actions")
    orphan_friction = db.scalar(
        "SELECT count(*) FROM bot_reactions WHERE friction AND reply_at IS NULL"
    )
    extra = [f"{frame.height} rows for {actions} bot actions"] if frame.height != actions else []
    extra += [f"{orphan_friction} rows with friction but no reply"] if orphan_friction else []
    return check_result(
        run_expectations(
            "bot_reactions",
            frame,
            BOT_REACTIONS_EXPECTATIONS,
            extra_failures=extra,
            allow_empty=True,
        )
    )


@dg.asset_check(
    asset="bot_timeline",
    blocking=True,
    description="One row per (repo, bot, month); months add up to the bot's actions; shares "
    "within [0, 100].",
)
def bot_timeline_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT * FROM bot_timeline")
    mismatched = db.scalar(
        "SELECT count(*) FROM (SELECT repo, bot, sum(posts + actions) AS n FROM bot_timeline "
        "GROUP BY ALL) t FULL JOIN (SELECT repo, bot, count(*) AS n FROM bot_actions "
        "GROUP BY ALL) a USING (repo, bot) WHERE t.n IS DISTINCT FROM a.n"
    )
    extra = [f"{mismatched} bots whose months do not add up to their actions"] if mismatched else []
    return check_result(
        run_expectations(
            "bot_timeline",
            frame,
            BOT_TIMELINE_EXPECTATIONS,
            extra_failures=extra,
            allow_empty=True,
        )
    )


@dg.asset_check(
    asset="bot_effects",
    description="Known analyses and metrics, confidence intervals around their estimates, "
    "every row labelled an association.",
)
def bot_effects_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT * FROM bot_effects")
    outside = db.scalar(
        "SELECT count(*) FROM bot_effects WHERE ci_low IS NOT NULL AND "
        "NOT (ci_low <= estimate AND estimate <= ci_high)"
    )
    extra = [f"{outside} estimates outside their confidence interval"] if outside else []
    return check_result(
        run_expectations(
            "bot_effects",
            frame,
            BOT_EFFECTS_EXPECTATIONS,
            extra_failures=extra,
            allow_empty=True,
        ),
        severity=dg.AssetCheckSeverity.WARN,
    )
