"""A corpus with two stale bots of known policy, for the fake GitHub API (acceptance tests).

Until `SWITCH` a machine user (`acme-stale-bot`, type User) marks issues idle for 30 days and
closes them 14 days after the mark; from then on a GitHub App (`stale-app[bot]`) marks after 14
idle days and closes 7 days later. Each bot comments when it marks and when it closes, as stale
bots do. Some issues get a human reply before the close (the bot lifts the mark), some closes
are reopened by the issue's author. `truth` holds what was served, per (repo, bot).
"""

from __future__ import annotations

import datetime as dt
import random

API = "https://api.github.com"
START = dt.datetime(2021, 1, 1)
SWITCH = dt.datetime(2022, 1, 1)
MACHINE = "acme-stale-bot"
APP = "stale-app[bot]"
POLICIES = {MACHINE: (30, 14), APP: (14, 7)}
MARK_TEXT = (
    "This issue has been automatically marked as stale because it has not had recent "
    "activity. It will be closed if no further activity occurs."
)
CLOSE_TEXT = "Closing this issue because it has been stale for a while. Reopen it if needed."
HUMAN_TEXTS = (
    "I can reproduce this on the latest release.",
    "Here is a minimal example that fails for me.",
    "Any update on this?",
    "Same problem here with Python 3.11.",
)
REPLY_TEXT = "This is still an issue, please don't close it."


def _ts(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(login: str) -> dict:
    kind = "Bot" if login.endswith("[bot]") else "User"
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": kind, "site_admin": False}


APP_OBJECT = {"id": 4242, "slug": "stale-app", "name": "Stale App"}


class _Repo:
    def __init__(self, name: str, index: int):
        self.name, self.index = name, index
        self.issues, self.comments, self.events = [], [], []
        self._drafts: list[tuple[dt.datetime, str, dict]] = []

    def post(self, number: int, at: dt.datetime, login: str, body: str) -> None:
        self._drafts.append((at, "comment", {"number": number, "login": login, "body": body}))

    def event(self, number: int, at: dt.datetime, login: str, kind: str, **extra) -> None:
        self._drafts.append(
            (at, "event", {"number": number, "login": login, "kind": kind, **extra})
        )

    def finish(self) -> None:
        """Comment and event ids ascending with time, like GitHub's."""
        cid, eid = 10**9 + self.index * 10**7, 2 * 10**9 + self.index * 10**7
        for at, what, d in sorted(self._drafts, key=lambda draft: (draft[0], draft[1])):
            url = f"{API}/repos/{self.name}/issues/{d['number']}"
            app = APP_OBJECT if d["login"] == APP else None
            if what == "comment":
                cid += 1
                self.comments.append(
                    {
                        "id": cid,
                        "issue_url": url,
                        "html_url": f"https://github.com/{self.name}/issues/{d['number']}"
                        f"#issuecomment-{cid}",
                        "user": _user(d["login"]),
                        "created_at": _ts(at),
                        "updated_at": _ts(at),
                        "author_association": "NONE",
                        "body": d["body"],
                        "performed_via_github_app": app,
                        "reactions": {"total_count": 0, "+1": 0, "-1": 0},
                    }
                )
            else:
                eid += 1
                event = {
                    "id": eid,
                    "actor": _user(d["login"]),
                    "event": d["kind"],
                    "created_at": _ts(at),
                    "issue": {"number": d["number"]},
                    "performed_via_github_app": app,
                    "commit_id": None,
                }
                if "label" in d:
                    event["label"] = {"name": d["label"], "color": "ededed"}
                if "state_reason" in d:
                    event["state_reason"] = d["state_reason"]
                self.events.append(event)


def stale_bots_corpus(
    repos: tuple[str, ...] = ("acme/rockets", "acme/gadgets"), issues: int = 200, seed: int = 7
) -> tuple[dict, dict]:
    """The corpus ({repo: {issues, comments, events}}) and the truth per (repo, bot)."""
    rng = random.Random(seed)
    corpus, truth = {}, {}
    humans = [f"person{k}" for k in range(30)]
    for index, name in enumerate(repos):
        repo = _Repo(name, index)
        for number in range(1, issues + 1):
            _issue(repo, number, rng, humans, truth)
        repo.finish()
        corpus[name] = {"issues": repo.issues, "comments": repo.comments, "events": repo.events}
    return corpus, truth


def _issue(repo: _Repo, number: int, rng: random.Random, humans: list[str], truth: dict) -> None:
    author = rng.choice(humans)
    created = START + dt.timedelta(days=number * 2.4, minutes=rng.randint(0, 600))
    last = created
    for _ in range(rng.randint(0, 2)):
        last += dt.timedelta(hours=rng.uniform(1, 72))
        repo.post(number, last, rng.choice(humans), rng.choice(HUMAN_TEXTS))
    if rng.random() < 0.3:  # a maintainer labels it (a human event counts as activity)
        last += dt.timedelta(hours=rng.uniform(1, 24))
        repo.event(number, last, "maintainer1", "labeled", label="bug")
    bot = MACHINE if last + dt.timedelta(days=30) < SWITCH else APP
    mark_days, close_days = POLICIES[bot]
    counts = truth.setdefault(
        (repo.name, bot),
        dict.fromkeys(("n_marked", "n_closed_by_bot", "n_unmarked", "n_reopened_after_close"), 0)
        | {"mark_days": mark_days, "close_days": close_days},
    )
    state, closed_at, reason, labels = "open", None, None, []
    marked = last + dt.timedelta(days=mark_days, minutes=rng.randint(1, 90))
    repo.event(number, marked, bot, "labeled", label="stale")
    repo.post(number, marked + dt.timedelta(seconds=5), bot, MARK_TEXT)
    counts["n_marked"] += 1
    end = marked + dt.timedelta(seconds=5)
    if rng.random() < 0.3:  # someone replies: the bot lifts the mark
        reply = marked + dt.timedelta(days=rng.uniform(0.5, close_days - 1))
        repo.post(number, reply, author, REPLY_TEXT)
        repo.event(number, reply + dt.timedelta(minutes=10), bot, "unlabeled", label="stale")
        counts["n_unmarked"] += 1
        end = reply + dt.timedelta(minutes=10)
    else:
        closed = marked + dt.timedelta(days=close_days, minutes=rng.randint(1, 60))
        repo.post(number, closed, bot, CLOSE_TEXT)
        repo.event(number, closed, bot, "closed", state_reason="not_planned")
        counts["n_closed_by_bot"] += 1
        state, closed_at, reason, labels, end = "closed", closed, "not_planned", ["stale"], closed
        if rng.random() < 0.25:  # the author reopens it
            reopened = closed + dt.timedelta(days=rng.uniform(1, 5))
            repo.event(number, reopened, author, "reopened")
            counts["n_reopened_after_close"] += 1
            state, closed_at, reason, end = "open", None, "reopened", reopened
    repo.issues.append(
        {
            "id": 5 * 10**8 + repo.index * 10**6 + number,
            "number": number,
            "title": f"Something breaks ({number})",
            "body": "Steps to reproduce: run it.",
            "user": _user(author),
            "labels": [{"name": name} for name in labels],
            "state": state,
            "state_reason": reason,
            "locked": False,
            "comments": sum(
                1 for at, what, d in repo._drafts if what == "comment" and d["number"] == number
            ),
            "created_at": _ts(created),
            "updated_at": _ts(end),
            "closed_at": _ts(closed_at) if closed_at else None,
            "author_association": "NONE",
            "html_url": f"https://github.com/{repo.name}/issues/{number}",
            "reactions": {"total_count": 0},
        }
    )
