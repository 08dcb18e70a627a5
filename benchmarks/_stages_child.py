"""Child of pipeline_benchmark: materialize the given assets one at a time (each with its checks)
in this process, and write each stage's wall time and peak RSS to a JSON file.

The peak RSS of a stage is sampled from /proc/self/statm every 50 ms while it runs, so it is the
process's resident size at its highest during that stage (including what earlier stages left).
"""

import json
import os
import sys
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.stop = rss_bytes(), threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, rss_bytes())


def main() -> int:
    out, assets = sys.argv[1], sys.argv[2:]
    import dagster as dg

    from botstudy_assets.definitions import defs as load_definitions
    from botstudy_assets.defs.jobs import execute_refresh
    from botstudy_dev.runner import configured_repos

    defs, repos = load_definitions(), configured_repos()
    instance = dg.DagsterInstance.ephemeral()
    stages = []
    for asset in assets:
        sampler = Sampler()
        sampler.start()
        started = time.monotonic()
        result = execute_refresh(
            defs, instance, repos, asset_selection=[dg.AssetKey(asset)], raise_on_error=False
        )
        elapsed = time.monotonic() - started
        sampler.stop.set()
        sampler.join()
        stages.append(
            {
                "stage": asset,
                "seconds": elapsed,
                "peak_rss_bytes": sampler.peak,
                "success": result.success,
            }
        )
        if not result.success:
            break
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(stages, handle)
    return 0 if all(stage["success"] for stage in stages) else 1


if __name__ == "__main__":
    sys.exit(main())
