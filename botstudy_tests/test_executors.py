"""BOTSTUDY_EXECUTOR: the in-process default, and Celery configured from the environment only."""

import pytest

from botstudy_assets.executors import configured_executor
from botstudy_assets.lib.settings import SettingsError
from botstudy_dev.runner import environment


def test_the_default_is_in_process():
    with environment({}):
        assert configured_executor().name == "in_process"


def test_a_misspelt_executor_is_named():
    with environment({"BOTSTUDY_EXECUTOR": "celry"}), pytest.raises(SettingsError) as error:
        configured_executor()
    assert "BOTSTUDY_EXECUTOR='celry' is not one of in_process, multiprocess, celery" in str(
        error.value
    )


def test_celery_needs_a_broker_and_backend():
    with environment({"BOTSTUDY_EXECUTOR": "celery"}), pytest.raises(SettingsError) as error:
        configured_executor()
    assert "BOTSTUDY_CELERY_BROKER and BOTSTUDY_CELERY_BACKEND" in str(error.value)
    broker = {"BOTSTUDY_CELERY_BROKER": "redis://127.0.0.1:6399/0"}
    with environment({"BOTSTUDY_EXECUTOR": "celery", **broker}), pytest.raises(SettingsError):
        configured_executor()  # a broker without a result backend
    urls = {**broker, "BOTSTUDY_CELERY_BACKEND": "redis://127.0.0.1:6399/1"}
    with environment({"BOTSTUDY_EXECUTOR": "Celery", **urls}):
        assert configured_executor().name == "celery"
