"""Canned responses by name."""

from __future__ import annotations

from bridge.store.sqlite.connection import SQLiteConnection


class CannedRows(SQLiteConnection):
    """CannedStore on SQLite."""

    async def put_canned(self, name: str, text: str) -> None:
        await self._write(
            "INSERT INTO canned (name, text) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET text = excluded.text",
            (name, text),
        )

    async def delete_canned(self, name: str) -> bool:
        return await self._write("DELETE FROM canned WHERE name = ?", (name,)) == 1

    async def list_canned(self) -> dict[str, str]:
        found = await self._all("SELECT name, text FROM canned ORDER BY name")
        return {name: text for name, text in found}
