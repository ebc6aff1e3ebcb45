"""Reading CSV uploads in chunks, the next block parsed while the caller works on this one."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from data_access.ingest import read as reading
from data_access.ingest.read import ROW, open_table, opener_for


@pytest.fixture
def small_blocks(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 1 << 10)


def _table(rows: int) -> reading.TableFile:
    payload = "code,name\n" + "".join(f"{i}, name {i} \n" for i in range(rows))
    return open_table(opener_for(payload.encode()), "entities.csv", "entities")


def test_chunks_arrive_in_order_trimmed_and_numbered(small_blocks):
    frames = list(_table(3000).chunks())
    assert len(frames) > 10
    whole = pd.concat(frames)
    assert whole["code"].tolist() == [str(i) for i in range(3000)]
    assert whole["name"].tolist() == [f"name {i}" for i in range(3000)]
    assert whole[ROW].tolist() == list(range(2, 3002))  # the header is row 1


def test_a_reader_stopped_early_leaves_no_thread_behind(small_blocks):
    chunks = _table(3000).chunks()
    next(chunks)
    chunks.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("csv-read-ahead")]


def test_a_broken_row_in_a_later_block_is_still_reported(small_blocks):
    payload = "code,name\n" + "".join(f"{i},n{i}\n" for i in range(2000)) + "9,too,many\n"
    table = open_table(opener_for(payload.encode()), "entities.csv", "entities")
    assert sum(len(f) for f in table.chunks()) == 2000
    assert [(bad.row, bad.fields) for bad in table.malformed] == [(2002, 3)]
