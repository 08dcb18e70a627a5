"""One Dagster concurrency pool per GitHub token (`github-token-1`, `github-token-2`, ...).

A mining step holds a slot of the pool of the token it mines with, and moves to another token's
pool when its token runs out, so `dagster instance concurrency set github-token-2 1` bounds how
many runs use token 2 at once however many run. A pool with no limit set lets every step in.
The slots are Dagster's own (the instance's concurrency table the executors use), claimed with a
step key of their own so that they never release the step's `github` slot.
"""

from collections.abc import Generator
from contextlib import contextmanager

import dagster as dg
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

from botstudy_assets.defs.resources import GitHubResource
from botstudy_assets.lib.tokens import TokenPool

POOL_PREFIX = "github-token-"


def token_pool_name(number: int) -> str:
    return f"{POOL_PREFIX}{number}"


@contextmanager
def token_pool(
    context: dg.AssetExecutionContext, github: GitHubResource
) -> Generator[TokenPool | None]:
    """The tokens this step may mine with, each behind its pool; None without tokens."""
    tokens = github.token_list()
    if not tokens:
        yield None
        return
    step_key = context.get_step_execution_context().step.key
    with InstanceConcurrencyContext(context.instance, context.run) as slots:

        def claim(number: int) -> bool:
            return slots.claim(token_pool_name(number), f"{step_key}#token{number}")

        def release(number: int) -> None:
            slots.free_step(f"{step_key}#token{number}")

        pool = TokenPool(tokens, github.api_url, claim=claim, release=release, log=context.log.info)
        try:
            yield pool
        finally:
            pool.close()
