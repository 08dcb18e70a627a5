"""`python benchmarks/_measure.py OUT.json -- CMD...`: run CMD, write its wall time, exit code
and resource usage (os.wait4) to OUT.json, and exit with CMD's exit code.

Why a launcher: on Linux a child's ru_maxrss starts at its parent's RSS at fork time (exec keeps
the larger of the old and new memory high-water marks), so a command forked straight from the
benchmark process, which holds a ~1 GB fake-GitHub corpus, would report at least ~1 GB. Forked
from this small process instead, the figure is the command's own peak (plus at most this
launcher's ~10 MB). Standard library only; run by path so that importing it costs nothing.
"""

import json
import os
import signal
import subprocess
import sys
import time


def main() -> int:
    out_path, separator, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    if separator != "--" or not cmd:
        sys.exit("usage: _measure.py OUT.json -- CMD [ARGS...]")
    started = time.monotonic()
    proc = subprocess.Popen(cmd)  # same stdio, same process group (the parent kills the group)
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    while True:
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            break
        except InterruptedError:
            continue
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "wall_s": wall,
                "returncode": code,
                "maxrss_bytes": usage.ru_maxrss * 1024,
                "user_s": usage.ru_utime,
                "sys_s": usage.ru_stime,
            },
            handle,
        )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
