"""Child process of `benchmarks.mining_benchmark`: materialize the mining assets once.

Run as `python -m benchmarks._miner_child OUT.json` with the botstudy settings in the
environment (BOTSTUDY_SOURCE=github, BOTSTUDY_GITHUB_API_URL, GITHUB_TOKEN, BOTSTUDY_REPOS,
BOTSTUDY_DB, ...). It does what `botstudy_dev.runner.run_graph` does (the real Dagster
assets `raw_issues` + `raw_issue_comments`, in-process, on an ephemeral instance) but keeps the
instance so that step start/end times can be read from its event log, and samples its own RSS
every 0.1 s so the parent can say *which step* the memory peak belongs to. The parent measures
wall time and peak RSS from outside (os.wait4); this file only adds the attribution.

Only the standard library is imported before the clock starts, so the import cost of Dagster
and botstudy is part of what is measured (and reported separately as `import_s`).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

SELECTION = ("raw_issues", "raw_issue_comments")
SAMPLE_EVERY_S = 0.1
STACK_DEPTH = 8
IDLE_FILES = ("threading.py", "_monitor.py", "selectors.py")
WATCH_ABOVE = int(float(os.environ.get("BENCH_WATCH_RSS_MB", "700")) * 1024**2)


def rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def vm_hwm_bytes() -> int:
    """This process' RSS high-water mark since exec (VmHWM), which no sampling can miss."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def thread_stacks(skip: int) -> list[str]:
    """The innermost frames of every thread but `skip` (which code was running, not why)."""
    import traceback

    stacks = []
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        if ident == skip:
            continue
        frames = traceback.extract_stack(frame)
        innermost = frames[-1] if frames else None
        if (
            innermost is None
            or innermost.filename.endswith(IDLE_FILES)
            or "work_queue.get" in (innermost.line or "")
        ):
            continue  # idle: waiting on a lock, a condition or an empty work queue
        frames = frames[-STACK_DEPTH:]
        stacks.append(
            f"thread {names.get(ident, ident)}:\n" + "".join(traceback.format_list(frames))
        )
    return stacks


class RssSampler(threading.Thread):
    """Samples RSS; whenever a new peak above `watch_above` bytes is seen, notes every
    thread's stack, so the report can say what was running at the memory peak."""

    def __init__(self, started: float, watch_above: int):
        super().__init__(name="rss-sampler", daemon=True)
        self.started = started
        self.watch_above = watch_above
        self.samples: list[tuple[float, int]] = []
        self.peak = 0
        self.peak_stacks: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            rss = rss_bytes()
            self.samples.append((time.time(), rss))
            if rss > self.peak:
                self.peak = rss
                if rss > self.watch_above:
                    self.peak_stacks = thread_stacks(threading.get_ident())
            self._halt.wait(SAMPLE_EVERY_S)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=2)
        self.samples.append((time.time(), rss_bytes()))


def _plain(value):
    """Dagster metadata values -> JSON-able Python values."""
    inner = getattr(value, "value", value)
    if isinstance(inner, (str, int, float, bool)) or inner is None:
        return inner
    return str(inner)


def main(out_path: str) -> int:
    started_wall = time.time()
    sampler = RssSampler(started_wall, WATCH_ABOVE)
    sampler.start()
    result: dict = {"started": started_wall, "rss_at_start": rss_bytes()}
    try:
        import dagster as dg

        from botstudy_dev.runner import SETTINGS, run_graph

        result["import_s"] = time.time() - started_wall
        result["rss_after_import"] = rss_bytes()
        env = {name: os.environ[name] for name in SETTINGS if os.environ.get(name)}
        run_started = time.time()
        instance = dg.DagsterInstance.ephemeral()
        run = run_graph(env, selection=list(SELECTION), instance=instance)
        result["materialize_s"] = time.time() - run_started
        result["success"] = bool(run.success)
        result["failures"] = [
            f"{event.step_key}: {event.step_failure_data.error.to_string()}"
            for event in run.get_step_failure_events()
            if event.step_failure_data.error
        ]
        result["checks"] = {
            evaluation.check_name: bool(evaluation.passed)
            for evaluation in run.get_asset_check_evaluations()
        }
        result["metadata"] = {
            event.asset_key.to_user_string(): {
                key: _plain(value) for key, value in event.materialization.metadata.items()
            }
            for event in run.get_asset_materialization_events()
            if event.asset_key
        }
        steps: dict[str, dict] = {}
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type_value == "STEP_START":
                steps.setdefault(event.step_key, {})["start"] = record.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                steps.setdefault(event.step_key, {})["end"] = record.timestamp
        result["steps"] = steps
    except BaseException as error:  # report, then let the parent see a non-zero exit
        import traceback

        result["success"] = False
        result["exception"] = traceback.format_exc()
        if not isinstance(error, Exception):
            raise
    finally:
        sampler.stop()
        samples = sampler.samples
        peak_at, peak = max(samples, key=lambda sample: sample[1]) if samples else (0.0, 0)
        result["rss_peak_sampled"] = peak
        result["rss_peak_at"] = peak_at
        result["rss_at_end"] = samples[-1][1] if samples else 0
        result["vm_hwm"] = vm_hwm_bytes()
        result["peak_stacks"] = sampler.peak_stacks
        for step in result.get("steps", {}).values():
            inside = [
                rss for at, rss in samples if step.get("start", 0) <= at <= step.get("end", 1e18)
            ]
            step["rss_peak"] = max(inside, default=0)
        # A coarse timeline (at most ~200 points) for the report's curious reader.
        stride = max(1, len(samples) // 200)
        result["rss_timeline"] = [
            (round(at - started_wall, 2), rss) for at, rss in samples[::stride]
        ]
        with open(out_path, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
    return 0 if result.get("success") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
