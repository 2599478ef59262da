"""The stored event ids as 64-bit hashes in memory: the long-running writer's duplicate check.

Idempotent ingest must know which of a batch's event ids are stored already. The exact
check is a semi-join of the batch against the events table, which scans the whole
`event_id` column: about 180 ms on a 10M-event ledger, for every writer batch however small.
The service commits a batch every ~0.1 s, so against a large ledger that scan alone would
use more than a core.

`KnownIds` holds DuckDB's `hash(event_id)` of every stored event (8 bytes each: 80 MB for
10M events; loaded in about 1.3 s): a sorted array plus a set of recent additions, merged
into the array every `MERGE_AT` hashes. It may say "maybe stored" of an id that is not (a
hash collision, or a batch that was rolled back after its hashes were added), never "not
stored" of one that is, as long as every insert adds its hashes (`Ledger._insert_new` does).
Only the ids it calls "maybe stored" go to the exact semi-join, which is skipped when there
are none (a batch of new spans, the usual case).
"""

from __future__ import annotations

import duckdb
import numpy as np
import numpy.typing as npt

Hashes = npt.NDArray[np.uint64]
#: Recent hashes kept in a set before they are merged into the sorted array.
MERGE_AT = 262_144


class KnownIds:
    """A superset of the stored event ids' hashes."""

    def __init__(self, sorted_hashes: Hashes) -> None:
        self._sorted = sorted_hashes
        self._recent: set[int] = set()

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> KnownIds:
        """The hashes of every event in the ledger `con` holds."""
        got = con.execute("SELECT hash(event_id) AS h FROM events").fetchnumpy()["h"]
        return cls(np.sort(np.asarray(got, dtype=np.uint64)))

    def __len__(self) -> int:
        return int(self._sorted.size) + len(self._recent)

    def maybe_stored(self, hashes: Hashes) -> npt.NDArray[np.bool_]:
        """For each hash: True if an event with that id hash may be stored."""
        s = self._sorted
        if s.size:
            at = np.searchsorted(s, hashes)
            found: npt.NDArray[np.bool_] = np.equal(s[np.minimum(at, s.size - 1)], hashes)
        else:
            found = np.zeros(hashes.size, dtype=np.bool_)
        if self._recent:
            recent = self._recent
            found |= np.fromiter((h in recent for h in hashes.tolist()), np.bool_, hashes.size)
        return found

    def add(self, hashes: Hashes) -> None:
        """Remember `hashes` (call it for every insert, before or with its commit)."""
        self._recent.update(hashes.tolist())
        if len(self._recent) >= MERGE_AT:
            new = np.fromiter(self._recent, np.uint64, len(self._recent))
            # Two sorted runs: the stable sort (timsort) merges them in linear time.
            merged = np.sort(np.concatenate([self._sorted, np.sort(new)]), kind="stable")
            self._sorted = merged
            self._recent = set()
