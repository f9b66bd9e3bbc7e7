"""The weekly retraining job: logged feedback in, a safely promoted model version out.

``signals`` (feedback -> training ratings), ``sources`` (warehouse / event log),
``compare`` (candidate vs live on a temporal slice), ``gate`` (the promotion rule),
``publish`` (upload, verify, flip the pointer, prune, promote, roll back),
``records`` (run records and job state), ``job`` (the run itself).
"""

from movierec.retraining.gate import GateDecision, GatePolicy, decide, primary_metric, sanity_checks
from movierec.retraining.job import RetrainConfig, RetrainResult, default_candidates, run_retrain
from movierec.retraining.publish import promote, prune, read_pointer, rollback, upload_verified
from movierec.retraining.signals import SignalRules, fold_feedback, training_ratings
from movierec.retraining.sources import EventLogFeedback, WarehouseFeedback, feedback_source

__all__ = [
    "EventLogFeedback",
    "GateDecision",
    "GatePolicy",
    "RetrainConfig",
    "RetrainResult",
    "SignalRules",
    "WarehouseFeedback",
    "decide",
    "default_candidates",
    "feedback_source",
    "fold_feedback",
    "primary_metric",
    "promote",
    "prune",
    "read_pointer",
    "rollback",
    "run_retrain",
    "sanity_checks",
    "training_ratings",
    "upload_verified",
]
