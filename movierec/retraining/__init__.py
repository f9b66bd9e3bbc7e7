"""The weekly retraining job: logged feedback in, a safely promoted model version out.

``signals`` (feedback -> training ratings), ``sources`` (warehouse / event log),
``compare`` (candidate vs live on a temporal slice), ``gate`` (the promotion rule),
``records`` (run records and job state), ``job`` (the run itself). Publishing a
version (verified upload, pointer move) is :mod:`movierec.pipelines.publish`, shared
with ``movierec train``.
"""
