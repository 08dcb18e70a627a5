"""Where a run's steps execute (BOTSTUDY_EXECUTOR): `in_process` (the default: `make run`, the
UI on one machine), `multiprocess` (one process per step), or `celery` (each step a task on
Celery workers, which may run on other machines, through the broker BOTSTUDY_CELERY_BROKER and
the result backend BOTSTUDY_CELERY_BACKEND, e.g. `redis://127.0.0.1:6379/0`). The broker URLs
are read from the environment by the executor (`env:` config), never written to run config.
"""

import os

import dagster as dg

from botstudy_assets.lib.settings import SettingsError

EXECUTORS = ("in_process", "multiprocess", "celery")
BROKER, BACKEND = "BOTSTUDY_CELERY_BROKER", "BOTSTUDY_CELERY_BACKEND"


def configured_executor() -> dg.ExecutorDefinition:
    name = (os.environ.get("BOTSTUDY_EXECUTOR") or "in_process").strip().lower()
    if name not in EXECUTORS:
        raise SettingsError(f"BOTSTUDY_EXECUTOR={name!r} is not one of {', '.join(EXECUTORS)}")
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    missing = [variable for variable in (BROKER, BACKEND) if not os.environ.get(variable)]
    if missing:
        raise SettingsError(
            f"BOTSTUDY_EXECUTOR=celery needs {' and '.join(missing)} (e.g. redis://127.0.0.1:6379/0)"
        )
    from dagster_celery import celery_executor

    return celery_executor.configured(
        {"broker": {"env": BROKER}, "backend": {"env": BACKEND}},
        name="celery",
    )
