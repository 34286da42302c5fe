"""The evaluation command runs in CI: every score must stay at or above its committed floor
(eval/floors.json). Raise the floors when extraction improves; never lower them silently."""

import json

import pytest

from dagster_project.evaluation.report import FLOORS_PATH, TARGETS, collect_scores


@pytest.fixture(scope="module")
def scores():
    values, notes = collect_scores()
    assert not [n for n in notes if "not found" in n], notes
    return values


def test_scores_at_or_above_floors(scores):
    floors = json.loads(FLOORS_PATH.read_text())
    below = {k: (scores.get(k), f) for k, f in floors.items() if scores.get(k, -1) < f}
    assert not below, f"scores below committed floors: {below}"


def test_every_target_has_a_floor():
    floors = json.loads(FLOORS_PATH.read_text())
    assert set(TARGETS) <= set(floors)
