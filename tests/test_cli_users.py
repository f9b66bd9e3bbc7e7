"""`movierec users link|show|unlink` on the local backend: the links serving reads."""

from __future__ import annotations

from movierec.cli import main
from movierec.stores.local_users import SQLiteUserDirectory


def test_link_show_unlink(tmp_path, capsys) -> None:
    env = {"MOVIEREC_HOME": str(tmp_path)}
    assert main(["users", "link", "--uid", "2ZH3a1S3sKXmpoGfmkDw17NWyGBu", "--user-id", "196"], env) == 0
    assert SQLiteUserDirectory(tmp_path / "events.sqlite").user_id_of("2ZH3a1S3sKXmpoGfmkDw17NWyGBu") == 196
    assert main(["users", "show", "--uid", "2ZH3a1S3sKXmpoGfmkDw17NWyGBu"], env) == 0
    assert main(["users", "unlink", "--uid", "2ZH3a1S3sKXmpoGfmkDw17NWyGBu"], env) == 0
    assert main(["users", "show", "--uid", "2ZH3a1S3sKXmpoGfmkDw17NWyGBu"], env) == 1
    out = capsys.readouterr().out
    assert "-> user 196" in out and "unlinked" in out and "not linked" in out


def test_a_uid_no_store_can_key_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["users", "link", "--uid", "a/b", "--user-id", "1"], {"MOVIEREC_HOME": str(tmp_path)}) == 2
    assert "--uid: uid must be" in capsys.readouterr().err
