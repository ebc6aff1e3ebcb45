"""Pseudonyms of learner and participant ids: keyed BLAKE2b, each distinct raw id hashed once per upload.

A platform export names each learner many times: a 5M-row file holds about 1M learners, each in
several chunks. ``Pseudonyms`` remembers the ids of an upload without a Python dict, whose lookups
(one per distinct id per chunk, in a dict of a million strings) cost 4 s of a 5M-row load. It keeps
a 64-bit index hash of every id seen (pandas' vectorised SipHash), sorted, beside a second
independent 64-bit hash that confirms a match, and each id's pseudonym in a flat byte array: a
chunk's ids are found with one ``searchsorted`` and only new ids reach Python, to be hashed.

An id whose first index hash equals another's but whose second does not (about one upload in
20 million at 1M learners) is kept in a small dict by its raw value instead, so no two ids ever
share a pseudonym through the index; both index hashes agreeing for two ids is as unlikely as two
ids sharing a 128-bit pseudonym. Nothing here is stored: the raw ids live only in the upload.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Hex digits of a pseudonym (BLAKE2b with a 16-byte digest).
WIDTH = 32
#: pandas' SipHash keys (16 characters each) for the two index hashes: fixed, as they never leave memory.
_FIRST_KEY, _SECOND_KEY = "pseudonym-index1", "pseudonym-index2"


def keyed_hash(value: str, key: bytes) -> str:
    """The pseudonym of one raw id: keyed BLAKE2b, 128 bits, as hex."""
    hasher = _blake(key).copy()
    hasher.update(value.encode())
    return hasher.hexdigest()


@functools.lru_cache(maxsize=4)
def _blake(key: bytes) -> hashlib.blake2b:
    return hashlib.blake2b(key=key[:64], digest_size=16)


def index_hashes(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each raw id (an object array of str)."""
    return (
        pd.util.hash_array(raw, hash_key=_FIRST_KEY, categorize=False),
        pd.util.hash_array(raw, hash_key=_SECOND_KEY, categorize=False),
    )


class Pseudonyms:
    """The pseudonyms of one upload so far.

    >>> pseudonyms = Pseudonyms()
    >>> chunk = pd.Series(["S001", "S002", "S001"], dtype="str")
    >>> pseudonyms.lookup(chunk, b"key").tolist() == [keyed_hash(v, b"key") for v in chunk]
    True
    """

    def __init__(self) -> None:
        self.first = np.empty(0, np.uint64)  # sorted first index hash of every id seen
        self.second = np.empty(0, np.uint64)  # the same ids' second index hash
        self.slot = np.empty(0, np.int64)  # where each id's pseudonym is in ``digests``
        self.digests = np.empty(1024, f"S{WIDTH}")  # pseudonyms in the order ids were first seen
        self.count = 0
        self.colliding: dict[str, str] = {}  # ids whose first index hash another id holds

    def lookup(self, values: pd.Series, key: bytes) -> pd.Series:
        """The pseudonym of each value (null stays null), as a pandas Series of Arrow strings."""
        encoded = pc.dictionary_encode(pa.array(values.array, type=pa.large_string()))
        distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
        slots = self._slots(distinct, key)
        data = pa.py_buffer(np.ascontiguousarray(self.digests[slots]))
        offsets = pa.py_buffer(np.arange(0, WIDTH * (len(slots) + 1), WIDTH, dtype=np.int32))
        hashed = pa.StringArray.from_buffers(len(slots), offsets, data)
        return pd.Series(pd.arrays.ArrowStringArray(hashed.take(encoded.indices)), index=values.index)

    def _slots(self, distinct: np.ndarray, key: bytes) -> np.ndarray:
        """The slot in ``digests`` of each distinct raw id, hashing and adding the new ones."""
        first, second = index_hashes(distinct)
        order = np.argsort(first)
        first, second, distinct = first[order], second[order], distinct[order]
        at = np.searchsorted(self.first, first)  # sorted needles: each search starts where the last ended
        inside = at < len(self.first)
        known = np.zeros(len(first), bool)
        known[inside] = self.first[at[inside]] == first[inside]
        confirmed = known.copy()
        confirmed[known] = self.second[at[known]] == second[known]
        slots = np.empty(len(first), np.int64)
        slots[confirmed] = self.slot[at[confirmed]]
        # An id whose first hash is already taken, by a stored id or by an earlier id of this chunk.
        taken = known.copy()
        taken[1:] |= first[1:] == first[:-1]
        aside = taken & ~confirmed
        for position in np.flatnonzero(aside):
            slots[position] = self._colliding_slot(distinct[position], key)
        new = ~taken
        slots[new] = self._add(first[new], second[new], distinct[new], at[new], key)
        result = np.empty_like(slots)
        result[order] = slots
        return result

    def _add(self, first: np.ndarray, second: np.ndarray, raw: np.ndarray, at: np.ndarray, key: bytes) -> np.ndarray:
        slots = self._store([keyed_hash(value, key) for value in raw])
        self.first = np.insert(self.first, at, first)
        self.second = np.insert(self.second, at, second)
        self.slot = np.insert(self.slot, at, slots)
        return slots

    def _colliding_slot(self, raw: str, key: bytes) -> int:
        if raw not in self.colliding:
            self.colliding[raw] = keyed_hash(raw, key)
        return int(self._store([self.colliding[raw]])[0])

    def _store(self, pseudonyms: list[str]) -> np.ndarray:
        """Append pseudonyms to ``digests`` (doubling its room when full); their slots."""
        end = self.count + len(pseudonyms)
        if end > len(self.digests):
            grown = np.empty(max(end, 2 * len(self.digests)), self.digests.dtype)
            grown[: self.count] = self.digests[: self.count]
            self.digests = grown
        self.digests[self.count : end] = pseudonyms
        slots = np.arange(self.count, end)
        self.count = end
        return slots


def pseudonymise(values: pd.Series, key: bytes, cache: Pseudonyms | None = None) -> pd.Series:
    """Keyed BLAKE2b (128-bit, hex) of each value; each distinct value is hashed once per upload."""
    return (Pseudonyms() if cache is None else cache).lookup(values, key)
