"""The UserDirectory (Firebase uid -> recommender user id) on both adapters: table
``users`` of the SQLite file, ``users/{uid}`` documents on the Firestore emulator."""

from __future__ import annotations

import pytest

from movierec.errors import BackendUnavailable
from movierec.stores.firestore_users import FirestoreUserDirectory
from movierec.stores.local_users import SQLiteUserDirectory
from movierec.stores.ports import UserDirectory


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)])
def users(request, tmp_path) -> UserDirectory:
    if request.param == "sqlite":
        return SQLiteUserDirectory(tmp_path / "events.sqlite")
    return FirestoreUserDirectory(request.getfixturevalue("firestore_client"))


def test_link_look_up_replace_and_unlink(users: UserDirectory) -> None:
    assert isinstance(users, UserDirectory)
    assert users.user_id_of("2ZH3a1S3sKXmpoGfmkDw17NWyGBu") is None
    users.link("2ZH3a1S3sKXmpoGfmkDw17NWyGBu", 196)
    users.link("other-uid", 186)
    assert users.user_id_of("2ZH3a1S3sKXmpoGfmkDw17NWyGBu") == 196
    users.link("2ZH3a1S3sKXmpoGfmkDw17NWyGBu", 7)  # an administrator corrects a link
    assert users.user_id_of("2ZH3a1S3sKXmpoGfmkDw17NWyGBu") == 7
    assert users.unlink("2ZH3a1S3sKXmpoGfmkDw17NWyGBu") is True
    assert users.unlink("2ZH3a1S3sKXmpoGfmkDw17NWyGBu") is False
    assert users.user_id_of("2ZH3a1S3sKXmpoGfmkDw17NWyGBu") is None
    assert users.user_id_of("other-uid") == 186


@pytest.mark.parametrize("uid", ["", "a/b", "..", "__name__", "x" * 129])
def test_a_uid_no_store_can_key_is_linked_to_nobody_and_cannot_be_linked(users: UserDirectory, uid: str) -> None:
    assert users.user_id_of(uid) is None
    with pytest.raises(ValueError, match="uid must be"):
        users.link(uid, 1)


def test_the_users_table_lives_beside_the_events_and_reports_an_unopenable_file(tmp_path) -> None:
    from movierec.stores.local import SQLiteEventLog

    path = tmp_path / "events.sqlite"
    SQLiteEventLog(path).ping()  # the event log's own tables first: both share the file
    SQLiteUserDirectory(path).link("uid-1", 5)
    assert SQLiteUserDirectory(path).user_id_of("uid-1") == 5
    broken = tmp_path / "not-a-folder"
    broken.write_text("")
    with pytest.raises(BackendUnavailable, match="table users"):
        SQLiteUserDirectory(broken / "events.sqlite").user_id_of("uid-1")
