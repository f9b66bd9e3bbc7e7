"""The MovieLens datasets movierec knows: archive, the files the loaders read and their sha256.

The checksums are those of the files as the official GroupLens archives unpack.
Only the files the loaders read are required; the others in an archive (README,
official splits...) are kept but not checked.

Provenance: ml-100k's ``u.data`` and ``u.item`` hashes match the ones pinned by
several independent public projects; ``u.genre``'s is the reference copy's. For
ml-latest-small, ``movies.csv`` matches the reference copy and public pins, but
``ratings.csv`` does NOT use the reference copy's ``SHA256SUMS`` entry (6d258d2a...):
that copy carries one extra appended row (user 999, movie 999999, absent from
movies.csv; 100,837 rows instead of the published 100,836) and its checksum was
recomputed after the edit. The hash below is that of the published file: 100,836
ratings by 610 users, equal to the reference copy minus its last line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from movierec.errors import DataError

Layout = Literal["100k", "latest"]


@dataclass(frozen=True)
class DatasetSpec:
    """How to obtain, check and parse one MovieLens dataset."""

    name: str
    archive: str  # file name under the GroupLens base URL; unpacks into a folder called `name`
    required: Mapping[str, str]  # file name -> sha256 of its bytes
    layout: Layout  # which parser the loaders use
    rating_scale: tuple[float, float]
    # md5 GroupLens publishes next to the archive (`<archive>.md5`). Informational only:
    # a re-packed archive with identical files is fine, the per-file sha256 decides.
    archive_md5: str | None = None
    max_archive_bytes: int = 64 * 1024 * 1024  # refuse to fill the disk on a bad redirect


DATASETS: Mapping[str, DatasetSpec] = MappingProxyType(
    {
        "ml-100k": DatasetSpec(
            name="ml-100k",
            archive="ml-100k.zip",
            required=MappingProxyType(
                {
                    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
                    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
                    "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
                }
            ),
            layout="100k",
            rating_scale=(1.0, 5.0),
            archive_md5="0e33842e24a9c977be4e0107933c0723",
        ),
        "ml-latest-small": DatasetSpec(
            name="ml-latest-small",
            archive="ml-latest-small.zip",
            required=MappingProxyType(
                {
                    "ratings.csv": "80da8b3393dae325bbba5a31f291a6ba55d8d4f4396de3c456f2c1635b1b70e8",
                    "movies.csv": "c47b783f23eb304413307e1bb05335e427737da20ec8d3c0e96335567dd5f3dc",
                }
            ),
            layout="latest",
            rating_scale=(0.5, 5.0),
        ),
    }
)


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; DataError listing the known names otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise DataError(f"unknown MovieLens dataset {name!r}; known datasets: {known}") from None


def rating_scale_of(name: str) -> tuple[float, float]:
    """The lowest and highest rating of dataset ``name``, bounds included; DataError if unknown."""
    return dataset_spec(name).rating_scale
