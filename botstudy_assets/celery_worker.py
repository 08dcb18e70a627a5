"""The Celery app botstudy's workers run:

    BOTSTUDY_CELERY_BROKER=redis://HOST:6379/0 BOTSTUDY_CELERY_BACKEND=redis://HOST:6379/1 \
    DAGSTER_HOME=/path/with/postgres/dagster.yaml \
    celery -A botstudy_assets.celery_worker worker -Q dagster --prefetch-multiplier=1

It is dagster-celery's worker app with the broker and backend from the environment (the same
variables the executor reads), so workers and runs always meet on one broker. Each task executes
one step of a run, loading the code location from this repository and recording events in the
Dagster instance at DAGSTER_HOME (PostgreSQL, shared by every machine).
"""

import os

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from botstudy_assets.executors import BACKEND, BROKER

app = make_app({"broker": os.environ[BROKER], "backend": os.environ[BACKEND]})
# A task counts as done only when its step ended: a worker that dies mid-step loses no queued
# step to an early acknowledgement, and one step at a time per worker process.
app.conf.update(worker_prefetch_multiplier=1)

execute_plan = create_task(app)
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)
