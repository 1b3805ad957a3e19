"""The server's mirror is read-only at the database: SQLite and PostgreSQL refuse its writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import FAST_ENV, PASSPHRASE
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from labourledger.mirror import schema
from labourledger.mirror.store import Mirror
from labourledger.web.service import read_only_url

pytestmark = pytest.mark.integration


def test_read_only_mirror_reads_but_cannot_write(mirror_url: str) -> None:
    writable = Mirror(mirror_url)
    writable.upgrade()
    with writable.transaction() as conn:
        writable.set_sync_state(conn, "last_synced_block", "7")
    reader = Mirror(read_only_url(mirror_url))
    assert reader.get_sync_state("last_synced_block") == "7"  # same database, same schema
    with pytest.raises(DBAPIError, match=r"read-only|readonly"), reader.transaction() as conn:
        conn.execute(insert(schema.sync_state).values(key="x", value="y"))
    assert writable.get_sync_state("x") is None


def test_a_mirror_gone_missing_is_a_503_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import httpx

    from labourledger.ledger import Ledger
    from labourledger.web.app import create_app
    from labourledger.web.service import ReadOnlyWorkspace

    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE)
    app = create_app(ReadOnlyWorkspace(tmp_path / "ws"))
    (tmp_path / "ws" / "mirror.sqlite").rename(tmp_path / "elsewhere.sqlite")

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/batches/L-1")

    answer = asyncio.run(ask())
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "mirror" in answer.json()["detail"] and "Traceback" not in answer.text
    assert not (tmp_path / "ws" / "mirror.sqlite").exists()  # not recreated by reading
