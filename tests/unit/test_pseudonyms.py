"""Pseudonyms: keyed BLAKE2b of every raw id, the same across chunks, whatever the index hashes do."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from data_access.ingest import pseudonyms
from data_access.ingest.pseudonyms import Pseudonyms

KEY = b"unit-test-key"


def blake(value: str) -> str:
    return hashlib.blake2b(value.encode(), key=KEY, digest_size=16).hexdigest()


def chunks(seed: int = 3) -> list[pd.Series]:
    rng = np.random.default_rng(seed)
    ids = [f"S{n:05d}" for n in range(3000)] + ["Côte d'Ivoire 7", "", "名前", 'a,b\n"c"']
    return [pd.Series(rng.choice(ids, 2500), dtype="str") for _ in range(6)]


def check(lookup: Pseudonyms) -> None:
    for chunk in chunks():
        assert lookup.lookup(chunk, KEY).tolist() == [blake(value) for value in chunk]


def test_each_value_gets_its_keyed_blake2b_across_chunks() -> None:
    check(Pseudonyms())


def test_missing_values_stay_missing_and_the_index_is_kept() -> None:
    values = pd.Series(["S1", None, "S2", "S1"], index=[10, 11, 12, 13], dtype="str")
    result = Pseudonyms().lookup(values, KEY)
    assert result.index.tolist() == [10, 11, 12, 13]
    assert result.isna().tolist() == [False, True, False, False]
    assert result[10] == result[13] == blake("S1")


def test_ids_whose_index_hashes_collide_still_get_their_own_pseudonym(monkeypatch: pytest.MonkeyPatch) -> None:
    """With an index hash of 4 values, nearly every id collides with another, in and across chunks."""
    real = pseudonyms.index_hashes

    def crowded(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first, second = real(raw)
        return first % np.uint64(4), second

    monkeypatch.setattr(pseudonyms, "index_hashes", crowded)
    lookup = Pseudonyms()
    check(lookup)
    seen = set().union(*(set(chunk) for chunk in chunks()))
    assert len(lookup.colliding) == len(seen) - 4  # one id holds each of the 4 index hashes
