"""A set of row ids as a bitmap: one bit an id, up to the largest.

An import remembers every customer its earlier rows created or matched (1,000,000 rows:
1,000,000 ids). A Python set of them took 65.6 MB (measured with tracemalloc) and grew
with the file; ids are small dense integers, so a bitmap holds the same in 125 KB per
million of the largest id. Written here rather than taken from a library (pyroaring,
bitarray): the three operations below are all an import needs.
"""

from __future__ import annotations

from collections.abc import Iterable


class IdSet:
    """Non-negative integer ids: `add`, `update`, `in`, `len`."""

    __slots__ = ("_bits", "_count")

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self._bits = bytearray()
        self._count = 0
        self.update(ids)

    def add(self, id_: int) -> None:
        if id_ < 0:
            raise ValueError(f"an id is not negative: {id_}")
        byte, bit = divmod(id_, 8)
        if byte >= len(self._bits):
            # Doubling: a million ids added in order grow the buffer ~20 times, not 125,000.
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
        mask = 1 << bit
        if not self._bits[byte] & mask:
            self._bits[byte] |= mask
            self._count += 1

    def update(self, ids: Iterable[int]) -> None:
        for id_ in ids:
            self.add(id_)

    def __contains__(self, id_: object) -> bool:
        if not isinstance(id_, int) or id_ < 0:
            return False
        byte, bit = divmod(id_, 8)
        return byte < len(self._bits) and bool(self._bits[byte] >> bit & 1)

    def __len__(self) -> int:
        return self._count
