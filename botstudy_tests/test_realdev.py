"""The real development set through the whole graph (loopback fake GitHub): floors that catch a
regression in detection or coding on real text, and the keyword channel's promise."""

import pytest

from botstudy_dev.validity import (
    category_scores,
    detection_scores,
    keyword_channel_check,
    load_devset,
    predict,
    subset,
)

# Floors below the figures measured when they were set (benchmarks/RESULTS_validity.md), so
# that a change which loses real-text quality fails here.
FLOORS = {"tune": {"f1": 0.97, "pooled_kappa": 0.92}, "holdout": {"f1": 0.93, "pooled_kappa": 0.80}}


@pytest.fixture(scope="module")
def realdev(tmp_path_factory):
    devset = load_devset()
    return devset, predict(devset.threads, keep=tmp_path_factory.mktemp("realdev"))


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_real_threads_are_found_and_coded_above_the_floors(realdev, split):
    devset, pred = realdev
    part = subset(devset, split)
    labels = {key: pred.labels[key] for key in part.labels}
    detection = detection_scores(part.labels, labels)
    categories = category_scores(part.labels, labels)
    print(f"\n{split}: F1 {detection['f1']:.3f} pooled kappa {categories['pooled_kappa']:.3f}")
    assert detection["f1"] >= FLOORS[split]["f1"], detection
    assert categories["pooled_kappa"] >= FLOORS[split]["pooled_kappa"], categories


def test_the_keyword_channel_flags_exactly_the_threads_that_say_bot(realdev):
    devset, pred = realdev
    check = keyword_channel_check(devset, pred)
    assert check["missed"] == [] and check["extra"] == [], check


def test_no_thread_without_any_bot_signal_is_accepted(realdev):
    devset, pred = realdev
    silent = [
        key for key in devset.labels if pred.labels[key].bot_related and not pred.channels.get(key)
    ]
    assert silent == []
