"""Which record ids may repeat in an input, found in a first pass over its ids, so that a run's
one-decision-per-id check (`engine.stream.OneDecisionPerId`, the columnar runs' id index) holds
only those: memory then stays flat however many households a file has (the check held every id
decided, 16 to 170 bytes each: 1.7 GB for 10,000,000 households on the record engine).

The first pass hashes each item's id to 64 bits, after stripping the whitespace any reader here
strips from a text (`ID_SPACES`): a record is decided with its id stripped or as given, and
either way it hashes as its raw text did. The hashes go into `KeySpill`'s buckets (in memory up
to a bound, then in a temporary file) and each bucket is searched for a hash given twice. An id
whose hash was given once belongs to one record of the input: it cannot repeat, and the second
pass need not keep it. An id whose hash was given more than once (a repeated id, or two ids of
one hash) is kept and compared exactly, as before. So a repeat is never missed and a collision
never makes one. A file is read twice: it must not change during the run (`FileStamp`).
"""

from __future__ import annotations

import os
import re
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import msgspec

from fangpin_rules.engine.records import RecordError, parse_line

# Every character Python's str.strip() removes (str.isspace): a superset of what the readers
# strip (pydantic's str_strip_whitespace, the Unicode White_Space set, is a subset), and
# stripping a superset of a text already stripped gives what stripping its raw text gave
ID_SPACES = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())
BUCKET_BITS = 8  # the hashes are spread over 256 buckets by their top bits
MEMORY_KEYS = 1 << 21  # hashes held in memory before the buckets go to the file (16 MiB)
KEY_MASK = (1 << 64) - 1
IDS_PER_BATCH = 100_000  # ids hashed at a time in a JSON-lines first pass


@dataclass(frozen=True)
class FileStamp:
    """What says a file is the one read in the first pass: its identity, size and change time."""

    device: int
    inode: int
    size: int
    modified_ns: int

    @classmethod
    def of(cls, path: str) -> FileStamp:
        status = os.stat(path)
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)

    def still(self, path: str) -> bool:
        try:
            return FileStamp.of(path) == self
        except OSError:
            return False


def rereadable(path: str) -> bool:
    """Whether the input at `path` is a file that can be read twice (not stdin, not a pipe)."""
    if path == "-":
        return False
    try:
        import stat
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


class KeySpill:
    """64-bit hashes in `1 << bucket_bits` buckets by their top bits: held in memory up to
    `memory_keys`, then appended to an anonymous temporary file (removed when closed), one blob
    per bucket each time the memory fills. `buckets()` gives each bucket's hashes (unsigned,
    native byte order) in turn, so that only one bucket is in memory to be searched."""

    def __init__(self, bucket_bits: int = BUCKET_BITS, memory_keys: int | None = None) -> None:
        self.shift = 64 - bucket_bits
        self.held = [bytearray() for _ in range(1 << bucket_bits)]
        self.held_keys = 0
        self.memory_keys = MEMORY_KEYS if memory_keys is None else memory_keys
        self.file: IO[bytes] | None = None
        self.blobs: list[list[tuple[int, int]]] = [[] for _ in self.held]  # (offset, length)

    def add(self, bucket: int, keys: bytes | bytearray | memoryview) -> None:
        """Hashes (8 bytes each) that all belong to `bucket` (their top bits)."""
        self.held[bucket] += keys
        self.held_keys += len(keys) // 8
        if self.held_keys > self.memory_keys:
            self._flush()

    def add_keys(self, keys: Iterable[int]) -> None:
        """Hashes of any buckets (unsigned 64-bit ints), spread here."""
        spread = [array("Q") for _ in self.held]
        for key in keys:
            spread[key >> self.shift].append(key)
        for bucket, part in enumerate(spread):
            if part:
                self.add(bucket, part.tobytes())

    def _flush(self) -> None:
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="fangpin-id-hashes-")  # noqa: SIM115
        self.file.seek(0, os.SEEK_END)
        for bucket, held in enumerate(self.held):
            if held:
                self.blobs[bucket].append((self.file.tell(), len(held)))
                self.file.write(held)
                self.held[bucket] = bytearray()
        self.held_keys = 0

    def buckets(self) -> Iterator[bytes]:
        """Each bucket's hashes, from the file then from memory."""
        for bucket, held in enumerate(self.held):
            parts = []
            for offset, length in self.blobs[bucket]:
                assert self.file is not None
                self.file.seek(offset)
                parts.append(self.file.read(length))
            parts.append(bytes(held))
            yield b"".join(parts)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def __enter__(self) -> KeySpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def repeats_of(bucket: bytes) -> set[int]:
    """The hashes given more than once in one bucket of `KeySpill`."""
    keys = array("Q")
    keys.frombytes(bucket)
    seen: set[int] = set()
    repeated: set[int] = set()
    for key in keys:
        if key in seen:
            repeated.add(key)
        else:
            seen.add(key)
    return repeated


class Unscreened(Exception):
    """The input's ids are not all texts (or the id field is not known): every id is kept."""


def item_ids(items: Iterable[tuple[int, Any]], id_field: str) -> Iterator[list[str]]:
    """The id text of each numbered item (`engine.stream.numbered_items`) that has one, in
    batches: a JSON line's id read without the rest of its record (msgspec, or the JSON parser
    the records are read with when msgspec refuses the line), a parsed value's id as it is. An
    item that is not a JSON object has no id (it is rejected when it is decided); an id that is
    not a text raises Unscreened (no reader here makes a text of it)."""
    decode = msgspec.json.Decoder(msgspec.defstruct(
        "IdOnly", [("value", Any, None)], rename={"value": id_field})).decode
    first = _first_key(id_field)
    batch: list[str] = []
    for number, item in items:
        value: Any = None
        if isinstance(item, str):
            found = first.match(item) if first is not None else None
            if found is not None:  # the id is the object's first key, a text without escapes
                value = found[1]
            else:
                try:
                    decoded: Any = decode(item)
                    value = decoded.value
                except (msgspec.DecodeError, UnicodeEncodeError):
                    try:
                        parsed = parse_line(item, number)
                    except RecordError:
                        continue
                    value = parsed.get(id_field) if isinstance(parsed, dict) else None
        elif isinstance(item, dict):
            value = item.get(id_field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise Unscreened
        batch.append(value)
        if len(batch) >= IDS_PER_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _first_key(id_field: str) -> re.Pattern[str] | None:
    """A JSON line whose object opens with the id field and a text with no escape in it: that
    text is the id the line's record has (a later key of the same name makes the record a
    rejected one, whose id is no one's; an invalid line is rejected too), read here without
    decoding the line: the first pass over 1,000,000 boundary households took 1.86 CPU-s with
    msgspec's id-only decoding of each line, 1.17 with this first."""
    if not all(c.isalnum() or c == "_" for c in id_field) or not id_field.isascii():
        return None
    space = r"[ \t\r\n]*"  # JSON's whitespace
    return re.compile(r"\{" + space + f'"{id_field}"' + space + ":" + space +
                      r'"([^"\\\x00-\x1f]*)"')  # no quote, no escape, no control character


def text_key(record_id: str) -> int:
    """A record id's hash in the first pass and the second (Python's hash of a text, the same
    in one process: the pass and the run are one process)."""
    return hash(record_id.strip(ID_SPACES)) & KEY_MASK


@dataclass(frozen=True)
class RepeatScreen:
    """The hashes of the ids given more than once in an input (`screen_items`): an id whose
    hash is not one of them is the only record of that id, and need not be kept."""

    repeated: frozenset[int]
    stamp: FileStamp | None = None  # the file read, which must not change before the run ends
    key: Callable[[str], int] = text_key

    def may_repeat(self, record_id: Any) -> bool:
        """Whether a decided record's id may be given to another record of the input (an id
        of another type is always kept)."""
        return not isinstance(record_id, str) or self.key(record_id) in self.repeated


def screen_items(items: Iterable[tuple[int, Any]], id_field: str | None,
                 stamp: FileStamp | None = None, key: Callable[[str], int] = text_key
                 ) -> RepeatScreen | None:
    """The screen of the numbered items' ids, or None when there is none to make (no id field,
    an id not a text): then every id is kept, as without a screen. `key`: the hash (a
    parameter so that tests can make collisions)."""
    if id_field is None:
        return None
    return screen_of(item_ids(items, id_field), stamp, key)


def screen_of(batches: Iterable[Iterable[Any]], stamp: FileStamp | None = None,
              key: Callable[[str], int] = text_key) -> RepeatScreen | None:
    """The screen of batches of ids (None for a record with none), or None when an id is not a
    text (Unscreened)."""
    with KeySpill() as spill:
        try:
            for batch in batches:
                spill.add_keys(key(value) if isinstance(value, str) else _unscreened()
                               for value in batch if value is not None)
        except Unscreened:
            return None
        repeated: set[int] = set()
        for bucket in spill.buckets():
            repeated |= repeats_of(bucket)
    return RepeatScreen(frozenset(repeated), stamp, key)


def _unscreened() -> int:
    raise Unscreened
