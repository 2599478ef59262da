"""Event ids already seen in one source, to catch a reused id with different content.

Memory is bounded by 24 bytes per record (64-bit id hash — the low half of MD5, since
DuckDB's `hash()` collides on structured ids — 64-bit content hash, position),
kept in sorted runs merged like a binary counter, so a check costs O(log n) per id and the
whole file O(n log n). Two different ids share a 64-bit hash with probability about
n^2 / 2^65 (3e-6 for 10M records); such a collision would reject the later record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass
class _Run:
    ids: U64
    content: U64
    pos: I64

    @classmethod
    def of(cls, ids: U64, content: U64, pos: I64) -> _Run:
        order = np.argsort(ids, kind="stable")
        return cls(ids[order], content[order], pos[order])

    def merge(self, other: _Run) -> _Run:
        return _Run.of(
            np.concatenate([self.ids, other.ids]),
            np.concatenate([self.content, other.content]),
            np.concatenate([self.pos, other.pos]),
        )

    def lookup(self, ids: U64) -> I64:
        """Index in this run of each id, or -1."""
        at = np.searchsorted(self.ids, ids)
        at_c = np.minimum(at, len(self.ids) - 1)
        found = (at < len(self.ids)) & (self.ids[at_c] == ids) if len(self.ids) else at < 0
        return np.where(found, at_c, -1).astype(np.int64)


@dataclass
class SeenIds:
    """Ids of one source, with the content hash and position of their first occurrence."""

    runs: list[_Run] = field(default_factory=list)

    def check_and_add(self, ids: U64, content: U64, pos: I64) -> I64:
        """For each record: the position of an earlier record with the same id and different
        content, or -1. Records that are not conflicts are remembered (first one wins)."""
        first = np.full(len(ids), -1, dtype=np.int64)
        known = np.zeros(len(ids), dtype=bool)
        for run in self.runs:
            at = run.lookup(ids)
            hit = (at >= 0) & ~known
            differs = hit & (run.content[np.maximum(at, 0)] != content)
            first[differs] = run.pos[at[differs]]
            known |= hit
        new = ~known
        self._add_new(ids[new], content[new], pos[new], first, new)
        return first

    def _add_new(self, ids: U64, content: U64, pos: I64, first: I64, new_mask: object) -> None:
        """Within the batch: the first occurrence of an id wins; later different ones conflict."""
        if not len(ids):
            return
        order = np.lexsort((pos, ids))
        s_ids, s_content, s_pos = ids[order], content[order], pos[order]
        lead = np.ones(len(s_ids), dtype=bool)
        lead[1:] = s_ids[1:] != s_ids[:-1]
        lead_idx = np.maximum.accumulate(np.where(lead, np.arange(len(s_ids)), 0))
        conflict = ~lead & (s_content != s_content[lead_idx])
        batch_index = np.flatnonzero(np.asarray(new_mask))[order]
        first[batch_index[conflict]] = s_pos[lead_idx[conflict]]
        self._push(_Run(s_ids[lead], s_content[lead], s_pos[lead]))

    def _push(self, run: _Run) -> None:
        self.runs.append(run)
        while len(self.runs) > 1 and len(self.runs[-2].ids) <= 2 * len(self.runs[-1].ids):
            last = self.runs.pop()
            self.runs[-1] = self.runs[-1].merge(last)
