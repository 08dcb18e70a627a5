"""The GitHub connection settings as a Dagster resource (GITHUB_TOKEN, BOTSTUDY_GITHUB_API_URL)."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from .github import GitHubClient


# Items per `since` window of the repository comments walk. One page: every page starts again
# from the newest updated_at read so far, so a comment edited or deleted behind the walk cannot
# shift an unread one onto a page already read (offset pages would lose it until its next
# update). Costs the re-read of items tied at that second, about 2% more requests.
COMMENTS_WINDOW_ITEMS = 100


class GitHubApi(dg.ConfigurableResource):
    """Where the GitHub REST API is and how to talk to it. The token is only ever read from the
    environment (an `EnvVar`), so it never appears in run config, logs or the UI."""

    api_url: str = "https://api.github.com"
    token: str = ""
    max_concurrent_repos: int = 3
    timeout_s: float = 60.0
    max_retries: int = 8
    backoff_base_s: float = 1.0
    comments_window_items: int = COMMENTS_WINDOW_ITEMS

    def client(self, log: Callable[[str], None]) -> GitHubClient:
        return GitHubClient(
            api_url=self.api_url,
            token=self.token or None,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_base_s=self.backoff_base_s,
            log=log,
        )
