"""Fast tests of the fake GitHub API itself: the miner's tests trust it to
behave like GitHub, so its quirks are pinned down here."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import httpx
import pytest

from botstudy_dev.fake_github import (
    COMMENTS_CAP_MESSAGE,
    EVENTS_CAP_MESSAGE,
    ISSUES_CAP_MESSAGE,
    SECONDARY_MESSAGE,
    FakeGitHub,
    add_bulk_events,
    bulk_corpus,
)

REPO = "octo/demo"
TOKEN = "s3cret"


@pytest.fixture(scope="module")
def corpus():
    return bulk_corpus([REPO, "octo/other"], issues_per_repo=120, comments_per_issue=4, seed=7)


@pytest.fixture
def serve(corpus):
    """Start fakes over the shared corpus; yields (fake, client) and stops them afterwards."""
    started = []

    def start(**options):
        options.setdefault("token", TOKEN)
        fake = FakeGitHub(options.pop("data", corpus), **options).start()
        client = httpx.Client(
            base_url=fake.url, headers={"Authorization": f"token {TOKEN}"}, timeout=5
        )
        started.append((fake, client))
        return fake, client

    yield start
    for fake, client in started:
        client.close()
        fake.stop()


def walk(client: httpx.Client, url: str) -> tuple[list[dict], list[httpx.Response]]:
    """Follow rel="next" links to the end, like a paging client does."""
    items, responses = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        items += response.json()
        responses.append(response)
        url = response.links.get("next", {}).get("url")
    return items, responses


def issue_key(sort: str):
    field = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[sort]
    return lambda issue: (issue[field], issue["number"])


@pytest.mark.parametrize(
    "sort,direction", [("created", "desc"), ("updated", "asc"), ("comments", "desc")]
)
def test_cursor_paging_walks_every_issue_once_without_rel_last(serve, corpus, sort, direction):
    fake, client = serve(issues_offset_cap=20)  # a cursor walk must not care about the cap
    issues, responses = walk(
        client, f"/repos/{REPO}/issues?state=all&per_page=7&sort={sort}&direction={direction}"
    )

    expected = sorted(corpus[REPO]["issues"], key=issue_key(sort), reverse=direction == "desc")
    assert [i["number"] for i in issues] == [i["number"] for i in expected]
    assert any("pull_request" in i for i in issues)
    for response in responses[:-1]:
        assert set(response.links) == {"next"}
        next_url = httpx.URL(response.links["next"]["url"])
        assert "after" in next_url.params and "page" not in next_url.params
        assert next_url.params["sort"] == sort and next_url.params["state"] == "all"
    assert "Link" not in responses[-1].headers
    assert fake.stats["errors_422"] == 0


def test_issue_defaults_are_open_and_newest_first(serve, corpus):
    _, client = serve()
    issues, responses = walk(client, f"/repos/{REPO}/issues")
    expected = sorted(
        (i for i in corpus[REPO]["issues"] if i["state"] == "open"),
        key=issue_key("created"),
        reverse=True,
    )
    assert [i["number"] for i in issues] == [i["number"] for i in expected]
    assert len(responses[0].json()) == 30


def test_page_parameter_beyond_issue_offset_cap_is_422(serve):
    fake, client = serve(issues_offset_cap=50)
    assert (
        client.get(
            f"/repos/{REPO}/issues", params={"state": "all", "per_page": 10, "page": 5}
        ).status_code
        == 200
    )
    response = client.get(
        f"/repos/{REPO}/issues", params={"state": "all", "per_page": 10, "page": 6}
    )
    assert response.status_code == 422
    assert response.json()["message"] == ISSUES_CAP_MESSAGE
    assert fake.stats["errors_422"] == 1


def test_repository_comments_are_capped_with_rel_last(serve, corpus):
    fake, client = serve(comments_offset_cap=50)
    first = client.get(f"/repos/{REPO}/issues/comments", params={"per_page": 10})
    last_url = httpx.URL(first.links["last"]["url"])
    assert last_url.params["page"] == "5" and last_url.params["per_page"] == "10"

    comments, responses = walk(client, f"/repos/{REPO}/issues/comments?per_page=10")
    ordered = sorted(corpus[REPO]["comments"], key=lambda c: (c["created_at"], c["id"]))
    assert [c["id"] for c in comments] == [c["id"] for c in ordered[:50]]
    assert "next" not in responses[-1].links

    refused = client.get(f"/repos/{REPO}/issues/comments", params={"per_page": 10, "page": 6})
    assert refused.status_code == 422
    assert refused.json()["message"] == COMMENTS_CAP_MESSAGE
    assert httpx.URL(refused.links["last"]["url"]).params["page"] == "5"
    assert fake.stats["errors_422"] == 1


def test_comment_sort_and_direction(serve, corpus):
    _, client = serve()
    comments, _ = walk(
        client, f"/repos/{REPO}/issues/comments?per_page=100&sort=updated&direction=desc"
    )
    expected = sorted(
        corpus[REPO]["comments"], key=lambda c: (c["updated_at"], c["id"]), reverse=True
    )
    assert [c["id"] for c in comments] == [c["id"] for c in expected]
    # Without sort, GitHub ignores direction: oldest first.
    unsorted = client.get(
        f"/repos/{REPO}/issues/comments", params={"direction": "desc", "per_page": 3}
    ).json()
    assert [c["id"] for c in unsorted] == [
        c["id"] for c in sorted(expected, key=lambda c: (c["created_at"], c["id"]))[:3]
    ]


def test_since_keeps_items_updated_at_or_after(serve, corpus):
    _, client = serve()
    issues_by_update = sorted(corpus[REPO]["issues"], key=issue_key("updated"))
    since = issues_by_update[len(issues_by_update) // 2]["updated_at"]
    for sort in ("updated", "created"):
        got, _ = walk(
            client, f"/repos/{REPO}/issues?state=all&per_page=13&sort={sort}&since={since}"
        )
        assert {i["number"] for i in got} == {
            i["number"] for i in issues_by_update if i["updated_at"] >= since
        }

    comment_since = sorted(c["updated_at"] for c in corpus[REPO]["comments"])[300]
    got, _ = walk(client, f"/repos/{REPO}/issues/comments?per_page=50&since={comment_since}")
    assert {c["id"] for c in got} == {
        c["id"] for c in corpus[REPO]["comments"] if c["updated_at"] >= comment_since
    }


def test_etag_revalidation_is_free(serve):
    fake, client = serve()
    url = f"/repos/{REPO}/issues?state=all"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    stats = fake.stats
    assert (stats["requests"], stats["counted"], stats["not_modified"]) == (2, 1, 1)

    fake.add_issue(REPO, {"title": "new", "user": None, "body": None})
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_primary_rate_limit_exhausts_and_resets(serve):
    fake, client = serve(rate_limit=3, rate_reset_seconds=0.5)
    remaining = [client.get(f"/repos/{REPO}").headers["x-ratelimit-remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]

    limited = client.get(f"/repos/{REPO}")
    assert limited.status_code == 403
    assert limited.json()["message"].startswith("API rate limit exceeded")
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-resource"] == "core"
    assert client.get("/rate_limit").json()["resources"]["core"]["remaining"] == 0

    time.sleep(max(int(limited.headers["x-ratelimit-reset"]) - time.time(), 0) + 0.05)
    renewed = client.get(f"/repos/{REPO}")
    assert renewed.status_code == 200 and renewed.headers["x-ratelimit-remaining"] == "2"
    stats = fake.stats
    assert (stats["counted"], stats["rate_limited"]) == (4, 1)


@pytest.mark.parametrize("reset_header", ["missing", "past"])
def test_an_exhausted_budget_can_come_without_a_usable_reset_time(serve, reset_header):
    fake, client = serve(rate_limit=0, rate_reset_header=reset_header)
    limited = client.get(f"/repos/{REPO}")
    assert limited.status_code == 403 and limited.headers["x-ratelimit-remaining"] == "0"
    if reset_header == "missing":
        assert "x-ratelimit-reset" not in limited.headers
    else:
        assert int(limited.headers["x-ratelimit-reset"]) < time.time()
    assert client.get(f"/repos/{REPO}").status_code == 403  # and it stays exhausted
    times = fake.request_times()
    assert len(times) == 2 and times[0] <= times[1]


def test_a_held_request_stays_in_flight_until_released(serve):
    fake, client = serve()
    arrived = fake.hold_request(2)
    assert client.get(f"/repos/{REPO}").status_code == 200  # the first passes
    answers: list[int] = []
    waiting = threading.Thread(target=lambda: answers.append(client.get("/rate_limit").status_code))
    waiting.start()
    assert arrived.wait(5)
    waiting.join(0.3)
    assert waiting.is_alive() and not answers  # in flight, unanswered
    fake.release()
    waiting.join(5)
    assert answers == [200]
    assert fake.request_paths() == [f"/repos/{REPO}", "/rate_limit"]


def test_secondary_rate_limit_faults_carry_retry_after(serve):
    fake, client = serve(fault_rate=1.0, fault_kinds=("secondary",), retry_after=7)
    response = client.get(f"/repos/{REPO}/issues")
    assert response.status_code == 403
    assert response.json()["message"] == SECONDARY_MESSAGE
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-ratelimit-remaining"] == "5000"  # primary quota untouched
    stats = fake.stats
    assert (stats["requests"], stats["faults"], stats["counted"]) == (1, 1, 0)


def test_random_faults_are_reproducible_by_seed(serve):
    statuses = []
    for _ in range(2):
        _, client = serve(fault_rate=0.5, seed=3, retry_after=None)
        statuses.append([client.get(f"/repos/{REPO}").status_code for _ in range(20)])
    assert statuses[0] == statuses[1]
    assert set(statuses[0]) == {200, 403, 502}


def test_fail_next_forces_each_fault_kind(serve):
    fake, client = serve(timeout_delay=0.5)
    fake.fail_next(1, "502")
    fake.fail_next(1, "not_json")
    assert client.get(f"/repos/{REPO}").status_code == 502
    not_json = client.get(f"/repos/{REPO}")
    assert not_json.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        not_json.json()

    fake.fail_next(1, "timeout")
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"/repos/{REPO}", timeout=0.1)
    assert client.get(f"/repos/{REPO}").status_code == 200

    fake.fail_next(1, "primary")
    for _ in range(2):  # exhausted until the reset, like the real limit
        response = client.get(f"/repos/{REPO}")
        assert response.status_code == 403 and response.headers["x-ratelimit-remaining"] == "0"
    assert fake.stats["faults_by_kind"] == {"502": 1, "not_json": 1, "timeout": 1, "primary": 1}
    with pytest.raises(ValueError):
        fake.fail_next(1, "bogus")


def test_credentials_and_unknown_resources(serve):
    fake, client = serve()
    assert client.get(f"/repos/{REPO}/issues", headers={"Authorization": ""}).status_code == 401
    bad = client.get(f"/repos/{REPO}/issues", headers={"Authorization": "token nope"})
    assert (bad.status_code, bad.json()["message"]) == (401, "Bad credentials")
    assert (
        client.get(
            f"/repos/{REPO}/issues", headers={"Authorization": f"Bearer {TOKEN}"}
        ).status_code
        == 200
    )

    missing = client.get("/repos/nobody/nothing/issues")
    assert (missing.status_code, missing.json()["message"]) == (404, "Not Found")
    assert client.get(f"/repos/{REPO}/issues/999999/comments").status_code == 404
    assert client.get("/no/such/endpoint").status_code == 404
    stats = fake.stats
    assert (stats["errors_401"], stats["errors_404"]) == (2, 3)

    _, anonymous = serve(token=None)
    assert anonymous.get(f"/repos/{REPO}", headers={"Authorization": ""}).status_code == 200


def test_enterprise_prefix_is_served_and_kept_in_links(serve):
    fake, client = serve()
    issues = client.get(f"/api/v3/repos/{REPO}/issues", params={"state": "all", "per_page": 5})
    comments = client.get(f"/api/v3/repos/{REPO}/issues/comments", params={"per_page": 5})
    for response in (issues, comments):
        assert response.status_code == 200
        assert response.links["next"]["url"].startswith(f"{fake.url}/api/v3/repos/{REPO}/issues")
    assert client.get("/api/v3/rate_limit").status_code == 200
    assert client.get("/api/v3/users/stale[bot]").json()["type"] == "Bot"


def test_side_endpoints_used_by_perceval(serve, corpus):
    fake, client = serve()
    busiest = max(corpus[REPO]["issues"], key=lambda i: i["comments"])
    comments, responses = walk(
        client, f"/repos/{REPO}/issues/{busiest['number']}/comments?per_page=2"
    )
    assert len(comments) == busiest["comments"]
    assert "last" in responses[0].links
    assert client.get(f"/repos/{REPO}/issues/{busiest['number']}/reactions").json() == []
    assert client.get(f"/repos/{REPO}/issues/comments/{comments[0]['id']}/reactions").json() == []

    user = client.get("/users/user1").json()
    assert (user["login"], user["type"], user["email"]) == ("user1", "User", None)
    assert client.get("/users/user1/orgs").json() == []
    assert client.get(f"/repos/{REPO}").json()["full_name"] == REPO

    before = fake.stats["counted"]
    rate = client.get("/rate_limit").json()
    assert rate["rate"]["limit"] == rate["resources"]["core"]["limit"] == 5000
    assert fake.stats["counted"] == before  # /rate_limit is free
    assert fake.stats["by_endpoint"]["issue_comments"] == len(responses)


def test_mutations_bump_updated_at_and_keep_cursors_valid(serve, corpus):
    original = [dict(i) for i in corpus[REPO]["issues"]]
    latest = max(
        max(i["updated_at"] for i in corpus[r]["issues"] + corpus[r]["comments"]) for r in corpus
    )
    fake, client = serve()

    url = f"/repos/{REPO}/issues?state=all&sort=created&direction=asc&per_page=50"
    first = client.get(url)
    fake.add_issue(REPO, {"title": "added mid-walk", "user": None, "body": None})
    rest, _ = walk(client, first.links["next"]["url"])
    numbers = [i["number"] for i in first.json() + rest]
    assert len(numbers) == len(set(numbers)) == len(original) + 1

    fake.update_issue(REPO, 1, state="closed", title="renamed")
    target = original[5]["number"]
    fake.add_comment(
        REPO,
        {
            "issue_url": f"https://api.github.com/repos/{REPO}/issues/{target}",
            "user": None,
            "body": "late 💬",
        },
    )
    changed, _ = walk(
        client, f"/repos/{REPO}/issues?state=all&sort=updated&direction=asc&since={latest}"
    )
    changed = [i for i in changed if i["updated_at"] > latest]
    assert [i["number"] for i in changed] == [len(original) + 1, 1, target]
    assert changed[-2]["closed_at"] == changed[-2]["updated_at"]
    assert changed[-1]["comments"] == original[5]["comments"] + 1

    new_comments = client.get(
        f"/repos/{REPO}/issues/comments", params={"since": changed[-1]["updated_at"]}
    ).json()
    assert [c["body"] for c in new_comments] == ["late 💬"]
    assert corpus[REPO]["issues"] == original  # the caller's corpus is untouched


def test_unicode_bodies_round_trip_as_utf8(serve):
    body = "emoji 🤖 CJK 漢字 RTL مرحبا NUL \x00 " + "长" * 200_000
    data = {
        REPO: {
            "issues": [
                {
                    "number": 1,
                    "id": 1,
                    "state": "open",
                    "title": "ü",
                    "body": body,
                    "user": None,
                    "comments": 0,
                    "created_at": "2020-01-01T00:00:00Z",
                    "updated_at": "2020-01-01T00:00:00Z",
                }
            ],
            "comments": [],
        }
    }
    _, client = serve(data=data)
    response = client.get(f"/repos/{REPO}/issues")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "🤖".encode() in response.content  # not \\u-escaped
    assert response.json()[0]["body"] == body


def test_bulk_corpus_shape(corpus):
    issues, comments = corpus[REPO]["issues"], corpus[REPO]["comments"]
    assert len(issues) == 120 and len(comments) == 480
    per_issue = Counter(int(c["issue_url"].rsplit("/", 1)[1]) for c in comments)
    assert all(i["comments"] == per_issue.get(i["number"], 0) for i in issues)
    users = [c["user"] for c in comments]
    assert None in users and any(
        u and u["type"] == "Bot" and u["login"].endswith("[bot]") for u in users
    )
    assert any(c["body"] is None for c in comments)
    assert any(
        n > 1 for n in Counter(c["created_at"] for c in comments).values()
    )  # same-second ties
    assert all(c["updated_at"] >= c["created_at"] for c in comments)
    assert all(i["updated_at"] >= i["created_at"] for i in issues)
    assert {c["id"] for c in comments}.isdisjoint(c["id"] for c in corpus["octo/other"]["comments"])


# ------------------------------------------------------------------------------ issue events


@pytest.fixture(scope="module")
def event_data():
    return add_bulk_events(
        bulk_corpus([REPO], issues_per_repo=60, comments_per_issue=0, seed=8), 4.0, seed=8
    )


def test_repository_events_are_newest_first_with_page_links_and_embed_the_issue(serve, event_data):
    _fake, client = serve(data=event_data)
    events, responses = walk(client, f"/repos/{REPO}/issues/events?per_page=30")
    expected = sorted(event_data[REPO]["events"], key=lambda e: (e["created_at"], e["id"]))
    assert [e["id"] for e in events] == [e["id"] for e in reversed(expected)]
    assert set(responses[0].links) == {"next", "last"}
    assert set(responses[-1].links) == {"prev", "first"}
    issues = {issue["number"]: issue for issue in event_data[REPO]["issues"]}
    assert events[0]["issue"] == issues[events[0]["issue"]["number"]]  # the issue as it is now
    # No `since` and no sort: GitHub ignores them on this list.
    same, _ = walk(client, f"/repos/{REPO}/issues/events?per_page=30&since=2030-01-01T00:00:00Z")
    assert [e["id"] for e in same] == [e["id"] for e in events]


def test_repository_events_refuse_pages_past_the_cap_with_githubs_message(serve, event_data):
    _fake, client = serve(data=event_data, events_offset_cap=60)
    events, responses = walk(client, f"/repos/{REPO}/issues/events?per_page=30")
    assert len(events) == 60 and "next" not in responses[-1].links  # the cap looks like an end
    refused = client.get(f"/repos/{REPO}/issues/events?per_page=30&page=3")
    assert refused.status_code == 422
    assert refused.json()["message"] == EVENTS_CAP_MESSAGE
    assert refused.links["last"]["url"].endswith("page=2")


def test_issue_events_are_oldest_first_without_the_issue_and_revalidate(serve, event_data):
    fake, client = serve(data=event_data)
    number = Counter(e["issue"]["number"] for e in event_data[REPO]["events"]).most_common(1)[0][0]
    first = client.get(f"/repos/{REPO}/issues/{number}/events?per_page=100")
    events = first.json()
    assert events and all("issue" not in e for e in events)
    assert [e["created_at"] for e in events] == sorted(e["created_at"] for e in events)
    again = client.get(
        f"/repos/{REPO}/issues/{number}/events?per_page=100",
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304 and fake.stats["not_modified"] == 1
    assert client.get(f"/repos/{REPO}/issues/999999/events").status_code == 404


def test_a_new_event_goes_on_top_and_changes_the_first_page(serve, event_data):
    fake, client = serve(data=event_data)
    first = client.get(f"/repos/{REPO}/issues/events?per_page=100")
    added = fake.add_event(
        REPO, {"event": "labeled", "issue": {"number": 5}, "label": {"name": "x"}}
    )
    again = client.get(
        f"/repos/{REPO}/issues/events?per_page=100",
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 200 and again.json()[0]["id"] == added["id"]
    assert added["id"] > max(e["id"] for e in event_data[REPO]["events"])
    assert again.json()[0]["created_at"] >= first.json()[0]["created_at"]
