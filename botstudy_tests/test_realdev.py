"""The real development set through the whole graph (loopback fake GitHub): floors that catch a
regression in detection or coding on real text, and the keyword channel's promise."""

import pytest

from botstudy_dev.validity import (
    category_scores,
    detection_scores,
    keyword_channel_check,
    load_devset,
    predict,
)

# Floors a little below the figures measured when they were set (benchmarks/RESULTS_validity.md,
# every origin of the set), so that a change which loses real-text quality anywhere fails here.
FLOORS = {
    "shared": (0.98, 0.95),
    "grown": (0.97, 0.91),
    "grown-2": (0.97, 0.92),
    "grown-3": (0.95, 0.90),
    "grown-4": (0.93, 0.86),
}


@pytest.fixture(scope="module")
def realdev(tmp_path_factory):
    devset = load_devset()
    return devset, predict(devset.threads, keep=tmp_path_factory.mktemp("realdev"))


@pytest.mark.parametrize("origin", sorted(FLOORS))
def test_real_threads_are_found_and_coded_above_the_floors(realdev, origin):
    devset, pred = realdev
    keys = [(t["repo"], t["number"]) for t in devset.threads if t["origin"] == origin]
    gold = {key: devset.labels[key] for key in keys}
    labels = {key: pred.labels[key] for key in keys}
    detection, categories = detection_scores(gold, labels), category_scores(gold, labels)
    print(f"\n{origin}: F1 {detection['f1']:.3f} pooled kappa {categories['pooled_kappa']:.3f}")
    f1_floor, kappa_floor = FLOORS[origin]
    assert detection["f1"] >= f1_floor, detection
    assert categories["pooled_kappa"] >= kappa_floor, categories


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
