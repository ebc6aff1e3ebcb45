"""A cache of view tables keyed by the data version, so a commit or rollback is seen everywhere at once.

The data version changes with every loaded or rolled-back batch; a key holds it, so no entry
ever has to be invalidated: after a change, every worker simply asks for new keys. With
``CACHE_URL=redis://...`` all workers share one cache; otherwise each process keeps its own
small in-memory one. Tables are stored as Parquet bytes (never pickle).
"""

from __future__ import annotations

import gc
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import pandas as pd
from sqlalchemy import Engine, func, select

from data_access.schema import UploadBatch

ENTRY_SECONDS = 24 * 3600
V = TypeVar("V")


class DataVersions(dict[str, str]):
    """Per upload kind, a version that changes with every loaded or rolled-back batch of that kind."""

    def of(self, kinds: tuple[str, ...]) -> str:
        """The version of the data a figure reads: only the kinds it reads."""
        return "|".join(f"{kind}={self.get(kind, '0')}" for kind in sorted(kinds))


def data_versions(engine: Engine) -> DataVersions:
    """One small grouped query: each kind's newest batch id and latest rollback."""
    query = select(UploadBatch.kind, func.max(UploadBatch.id), func.max(UploadBatch.rolled_back_at)).group_by(
        UploadBatch.kind
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return DataVersions({kind: f"{newest}:{rolled.isoformat() if rolled else '-'}" for kind, newest, rolled in rows})


class Store(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes) -> None: ...
    def add(self, key: str, value: bytes) -> bool:
        """Set ``key`` only if it holds nothing yet; whether it was set (one claimant among workers)."""
        ...


class MemoryStore(Generic[V]):
    """A per-process LRU of at most ``capacity`` entries (bytes as a ``Store``; any value for other uses)."""

    shared = False  # other processes cannot read it

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[str, V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def set(self, key: str, value: V) -> None:
        with self.lock:
            self._put(key, value)

    def add(self, key: str, value: V) -> bool:
        with self.lock:
            if key in self.entries:
                return False
            self._put(key, value)
            return True

    def _put(self, key: str, value: V) -> None:
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)


def read_once(held: MemoryStore[V], key: str, engine: Engine, versions: DataVersions, read: Callable[[], V]) -> V:
    """``read()``, once per process and data version: kept in ``held`` under ``key`` (which holds the
    version of what ``read`` reads), unless a batch landed while it read. ``read`` must not return None."""
    found = held.get(key)
    if found is None:
        found = read()
        if data_versions(engine) == versions:  # not kept when a batch landed meanwhile
            held.set(key, found)
    return found


def read_for_version(
    held: MemoryStore[V], version: str, engine: Engine, reads: tuple[str, ...], read: Callable[[], V]
) -> V | None:
    """``read()``, once per process for ``version`` (``DataVersions.of(reads)``), kept in ``held``. None when
    the data changed from ``version`` while it read: the caller then asks SQL, and no version ever holds
    another's rows."""
    found = held.get(version)
    if found is None:
        found = read()
        if data_versions(engine).of(reads) != version:
            return None
        held.set(version, found)
    return found


class RedisStore:
    """Entries shared by every worker, expiring after a day (old data versions just age out)."""

    shared = True

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2)

    def get(self, key: str) -> bytes | None:
        return self.client.get(key)  # type: ignore[return-value]

    def set(self, key: str, value: bytes) -> None:
        self.client.set(key, value, ex=ENTRY_SECONDS)

    def add(self, key: str, value: bytes) -> bool:
        return bool(self.client.set(key, value, ex=ENTRY_SECONDS, nx=True))


#: Tables kept decoded are long-lived, and pandas gives each one a hundred or so objects for the
#: garbage collector to track: with a few thousand tables, a full collection took 0.2-0.3 s in the
#: middle of someone's request. So after every FREEZE_EVERY new tables the collector is told to leave
#: what exists alone (``gc.freeze``). Frozen objects are still freed by reference counting when a
#: table is evicted; only reference cycles among them would stay, and pandas tables hold none.
FREEZE_EVERY = 256


def freeze_kept() -> None:
    """Leave every object alive now out of the collector's full passes, as ``DecodedTables`` does every
    ``FREEZE_EVERY`` tables (for the same reasons); garbage is collected first, so none is frozen.
    Run after a warm-up, which keeps tens of thousands of objects at once."""
    gc.collect()
    gc.freeze()


class DecodedTables:
    """Tables this process has read from ``store`` lately, kept decoded, in front of the store itself.

    Keys hold the data version, so an entry is never stale; a hit skips the store's round trip
    and the Parquet decoding. Callers get a copy-on-write copy, so changing one never changes the entry.
    In front of a store no other process reads (``MemoryStore``), the tables are kept only here,
    as many as that store would hold, and never encoded at all.
    """

    #: Enough for what a commit's warm-up computes (about 25 tables for each of about 100 slices), so the
    #: first visit of a warmed slice needs no decoding either.
    def __init__(self, store: Store, capacity: int = 4096) -> None:
        self.store = store
        self.shared = getattr(store, "shared", True)
        self.frames: MemoryStore[pd.DataFrame] = MemoryStore(
            capacity if self.shared else getattr(store, "capacity", capacity)
        )
        self.added = 0
        self.worked_out: MemoryStore[dict[str, Any]] = MemoryStore(self.frames.capacity)

    def kept(self, key: str) -> dict[str, Any]:
        """A dict kept with the table at ``key`` for what callers work out from it (the same for every
        caller: keys hold the data version, so the table is the same each time it is read)."""
        found = self.worked_out.get(key)
        if found is None:
            found = {}
            self.worked_out.set(key, found)
        return found

    def get(self, key: str, *, copy: bool = True) -> pd.DataFrame | None:
        """The table at ``key`` (None: not held). ``copy=False`` hands out the entry itself, for a caller
        that only reads it (a shallow copy costs about 2 µs a column)."""
        frame = self.frames.get(key)
        if frame is None:
            value = self.store.get(key) if self.shared else None
            if value is None:
                return None
            frame = from_bytes(value)
            self.frames.set(key, frame)
        return frame.copy(deep=False) if copy else frame

    def set(self, key: str, frame: pd.DataFrame, *, copy: bool = True) -> None:
        """Keep ``frame`` at ``key``; ``copy=False`` keeps the object itself, for a caller that will not change it."""
        self.frames.set(key, frame.copy(deep=False) if copy else frame)
        if self.shared:
            self.store.set(key, to_bytes(frame))
        with self.frames.lock:
            self.added += 1
            freeze = self.added % FREEZE_EVERY == 0
        if freeze:
            gc.freeze()


def cache_key(*parts: str) -> str:
    return "learning:view:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def to_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def from_bytes(value: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(value))
