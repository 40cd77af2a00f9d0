"""Which dead-lettered records of one DLQ partition were replayed already, as a Kafka offset commit.

The committed offset is the first record not replayed yet; the commit's metadata string lists the
offsets above it that were replayed already (a run filtered by --order-id leaves gaps). Everything
below the offset or listed is done; everything else is still to replay, however often runs skip it.
"""
import json
from dataclasses import dataclass, field

# Kafka's offset.metadata.max.bytes defaults to 4096; stay well below it.
MAX_METADATA_CHARS = 3500


@dataclass
class ReplayProgress:
    next_offset: int
    done_above: set[int] = field(default_factory=set)

    @classmethod
    def from_commit(cls, offset: int, metadata: str) -> "ReplayProgress":
        progress = cls(offset, _parse_ranges(metadata, above=offset))
        progress._advance()
        return progress

    def is_done(self, offset: int) -> bool:
        return offset < self.next_offset or offset in self.done_above

    def mark_done(self, offset: int) -> None:
        if offset >= self.next_offset:
            self.done_above.add(offset)
            self._advance()

    def metadata(self) -> str:
        """The done offsets above `next_offset` as ranges; if too many to fit, the highest are dropped,
        which only means those records may be replayed once more (replays are idempotent downstream)."""
        kept, size = [], len('{"done":[]}')
        for start, end in _ranges(sorted(self.done_above)):
            size += len(f"[{start},{end}],")
            if size > MAX_METADATA_CHARS:
                break
            kept.append([start, end])
        return json.dumps({"done": kept}, separators=(",", ":")) if kept else ""

    def _advance(self) -> None:
        while self.next_offset in self.done_above:
            self.done_above.remove(self.next_offset)
            self.next_offset += 1


def _ranges(offsets: list[int]) -> list[list[int]]:
    """[3, 4, 5, 9] -> [[3, 6], [9, 10]] (half-open)."""
    ranges: list[list[int]] = []
    for offset in offsets:
        if ranges and ranges[-1][1] == offset:
            ranges[-1][1] += 1
        else:
            ranges.append([offset, offset + 1])
    return ranges


def _parse_ranges(metadata: str, above: int) -> set[int]:
    try:
        ranges = json.loads(metadata)["done"] if metadata else []
    except (ValueError, KeyError, TypeError):
        return set()
    return {offset for start, end in ranges for offset in range(max(start, above), end)}
