"""Storage ports (``ports``) and their adapters: local (``local``) and Google Cloud
(``gcs``, ``firestore``). Entry points build them with ``make_stores``."""

from movierec.stores.factory import Stores, make_stores
from movierec.stores.ports import ArtifactNotFound, ArtifactStore, EventLog

__all__ = ["ArtifactNotFound", "ArtifactStore", "EventLog", "Stores", "make_stores"]
