"""Storage ports (``ports``) and their adapters: local (``local``, ``duckdb_warehouse``)
and Google Cloud (``gcs``, ``firestore``, ``bigquery_warehouse``). Entry points build
them from their Settings with :mod:`movierec.stores.factory`."""
