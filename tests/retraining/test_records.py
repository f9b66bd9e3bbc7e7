"""Run records: typed in memory, the same JSON in the store as the job has always written.

``old_records/`` holds records written by the job before the record was a dataclass
(a refused and a promoted family; an unchanged family; a run that failed before
reading its window), copied as they were stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from movierec.errors import ArtifactError
from movierec.retraining import records
from movierec.retraining.job import run_retrain
from movierec.retraining.records import RetrainRecord
from movierec.retraining.signals import CLICK
from movierec.retraining.sources import EventLogFeedback
from tests.retraining.conftest import config, small_candidates

OLD = Path(__file__).parent / "old_records"


def old_record(name: str) -> dict:
    return json.loads((OLD / f"{name}.json").read_text())


def stored_again(record: RetrainRecord) -> dict:
    return json.loads(records.encode(record))


def without_empty(value):
    """``value`` without the keys whose value is None or empty: what a record has not reached."""
    if isinstance(value, dict):
        return {k: without_empty(v) for k, v in value.items() if v not in (None, [], {})}
    return value


@pytest.mark.parametrize("name", ["refused_and_promoted", "unchanged", "failed"])
def test_records_written_by_older_code_load_and_are_stored_the_same_again(name):
    old = old_record(name)
    record = RetrainRecord.from_dict(old)
    assert without_empty(stored_again(record)) == without_empty(old)
    assert RetrainRecord.from_dict(stored_again(record)) == record


def test_an_old_record_reads_as_attributes():
    record = RetrainRecord.from_dict(old_record("refused_and_promoted"))
    ease, svd = record.models["ease"], record.models["svd"]
    assert (ease.decision, svd.decision) == ("refused", "promoted")
    assert record.promoted == {"svd": svd.candidate_version}
    assert ease.gate.candidate < ease.gate.threshold and not ease.gate.promote
    assert ease.sanity.seen_recommended == 430 and ease.reasons == tuple(ease.gate.reasons)
    assert record.config.models == ("ease", "svd") and record.window.until > record.window.since
    assert record.signals.key.startswith(records.SIGNALS_PREFIX)

    failed = RetrainRecord.from_dict(old_record("failed"))
    assert failed.status == "failed" and failed.window is None and failed.models == {}


def test_keys_this_code_does_not_know_are_ignored():
    old = old_record("unchanged")
    newer = {**old, "added_later": 1, "models": {"ease": {**old["models"]["ease"], "note": "x"}}}
    assert RetrainRecord.from_dict(newer) == RetrainRecord.from_dict(old)


def test_a_run_continues_from_the_state_older_code_left(base, store, events):
    """The window starts where the old completed record's ended; its signals carry over."""
    old = old_record("unchanged")
    unrated = sorted(set(base.dataset.movies["item_id"]) - set(base.training.ratings.query("user_id == 1")["item_id"]))
    carried = pd.DataFrame(
        {"user_id": [1, 1], "item_id": unrated[:2], "rating": [4.0, 4.0], "timestamp": [880000000] * 2, "source": [CLICK] * 2}
    ).astype({"user_id": "int64", "item_id": "int64", "timestamp": "int64", "source": "int8"})
    key, sha256 = records.save_signals(store, old["run_id"], carried)
    old["signals"] = {**old["signals"], "key": key, "sha256": sha256, "signals": 2}
    store.write_bytes(records.record_key(old["run_id"]), json.dumps(old).encode())
    until = old["window"]["until"] + 3600

    record = run_retrain(base, store, EventLogFeedback(events), config(), until=until, candidates=small_candidates)

    assert record.window.since == old["window"]["until"] and record.window.until == until
    assert record.signals.events == 0 and record.signals.signals == 2
    assert record.counts.training_ratings == len(base.training.ratings) + 2
    assert records.last_completed(store) == record


def test_a_record_that_is_not_one_is_a_clear_error(store):
    store.write_bytes(records.record_key("20260101T000000000000Z-abcdef"), b'{"status": "completed"}')
    with pytest.raises(ArtifactError, match="is not a run record"):
        records.last_completed(store)
