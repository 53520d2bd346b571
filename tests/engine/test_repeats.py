"""The first pass over an input's ids (engine/repeats.py): the hashes given twice found through
a bounded spill, a screen that keeps every id that may repeat, and `fangpin eval` holding only
those ids with the same output as when it holds every id (stdin: no first pass)."""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangpin_rules.cli.main import main
from fangpin_rules.engine.records import numbered_lines
from fangpin_rules.engine.repeats import (
    ID_SPACES,
    KeySpill,
    RepeatScreen,
    repeats_of,
    screen_items,
    text_key,
)
from fangpin_rules.engine.stream import ChunkResult, OneDecisionPerId, numbered_items

ROOT = Path(__file__).resolve().parents[2]
FUJIAN = ROOT / "policies" / "fujian_2021.yaml"
EXAMPLES = [json.loads(line) for line in
            (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, (1 << 64) - 1), max_size=30), max_size=8),
       st.integers(1, 40), st.integers(0, 3))
def test_the_spill_gives_each_bucket_its_keys(batches: list[list[int]], memory: int,
                                              bits: int) -> None:
    """Every key comes back once, in the bucket of its top bits, whether the memory filled
    (the file then holds them) or not; the file is gone once closed."""
    from array import array
    with KeySpill(bits, memory) as spill:
        for batch in batches:
            spill.add_keys(batch)
        got = []
        for bucket, data in enumerate(spill.buckets()):
            keys = array("Q")
            keys.frombytes(data)
            assert all(key >> (64 - bits) == bucket for key in keys)
            got += list(keys)
        everything = [key for batch in batches for key in batch]
        assert Counter(got) == Counter(everything)
        assert (spill.file is not None) == (len(everything) > memory)
        file = spill.file
    assert file is None or file.closed


def test_repeats_of_a_bucket() -> None:
    from array import array
    assert repeats_of(array("Q", [5, 9, 5, 7, 9, 9]).tobytes()) == {5, 9}
    assert repeats_of(b"") == set()


def _lines(ids: list[str | None], broken: set[int]) -> list[str]:
    out = []
    for n, record_id in enumerate(ids):
        record: dict[str, Any] = {"n": n} if record_id is None else \
            {"household_id": record_id, "n": n}
        text = json.dumps(record, ensure_ascii=n % 2 == 0)
        out.append(text[:-3] if n in broken else text)
    return out


ID_TEXTS = st.sampled_from(["H1", "H2", "H3", "户4", "H5"])
SPACING = st.sampled_from(["", " ", "\t", "\u3000", "\x1c", "\xa0 "])
IDS = st.lists(st.one_of(st.none(), st.builds(lambda a, i, b: a + i + b, SPACING, ID_TEXTS,
                                              SPACING)), max_size=40)


@pytest.mark.parametrize("key", [text_key, lambda text: len(text.strip(ID_SPACES))],
                         ids=["hash", "colliding"])
@settings(max_examples=60, deadline=None)
@given(IDS, st.sets(st.integers(0, 39), max_size=5), st.integers(1, 8))
def test_the_screen_keeps_every_id_that_may_repeat(key: Any, ids: list[str | None],
                                                   broken: set[int], memory: int) -> None:
    """An id given (as its stripped text) by two records the reader might decide is one the
    screen keeps; an id no other line gives (a broken one included: the pass may read the id
    of a line the run then rejects) is not, unless its hash is another's."""
    lines = _lines(ids, broken)
    with pytest.MonkeyPatch.context() as patch:  # the spill's file used from `memory` hashes
        patch.setattr("fangpin_rules.engine.repeats.MEMORY_KEYS", memory)
        screen = screen_items(numbered_lines(lines), "household_id", key=key)
    assert screen is not None
    readable = Counter(record_id.strip(ID_SPACES) for n, record_id in enumerate(ids)
                       if record_id is not None and n not in broken)
    given = Counter(record_id.strip(ID_SPACES) for record_id in ids if record_id is not None)
    for record_id in given:
        if sum(n for other, n in readable.items() if other == record_id) > 1:
            assert screen.may_repeat(record_id)  # must: two records of it may be decided
        if sum(n for other, n in given.items() if key(other) == key(record_id)) == 1:
            assert not screen.may_repeat(record_id)  # the only line with its hash
        assert screen.may_repeat(" " + record_id) == screen.may_repeat(record_id)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),  # the id, any text
    st.booleans(),  # the id first or after another key
    st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]),
    st.booleans()), max_size=20))  # ensure_ascii
def test_the_first_key_shortcut_reads_the_ids_json_does(
        records: list[tuple[str, bool, tuple[str, str], bool]]) -> None:
    """Whatever the id's characters (quotes, backslashes, control characters, non-ASCII),
    where it stands and how the line is spaced, the ids read are those json.loads reads."""
    from fangpin_rules.engine.repeats import item_ids

    lines = []
    for record_id, first, separators, ascii_only in records:
        record = {"household_id": record_id, "n": 1} if first else \
            {"n": 1, "household_id": record_id}
        lines.append(" " * first + json.dumps(record, separators=separators,
                                              ensure_ascii=ascii_only))
    got = [i for batch in item_ids(numbered_lines(lines), "household_id") for i in batch]
    assert got == [json.loads(line)["household_id"] for line in lines]


def test_ids_that_are_not_texts_make_no_screen() -> None:
    """A record whose id is a number: no reader here makes a text of it, so there is no
    screen (every id is held, as before); no id field, no screen either."""
    assert screen_items(numbered_lines(['{"household_id": 7}', '{"household_id": "7"}']),
                        "household_id") is None
    assert screen_items(numbered_lines(['{"household_id": "7"}']), None) is None
    screen = screen_items(numbered_lines(['{"household_id": "7"}', "[1]", "not json"]),
                          "household_id")
    assert screen is not None and not screen.may_repeat("7")
    assert screen.may_repeat(7)  # an id of another type is always held


def test_a_json_array_and_a_record_over_lines_are_screened_as_they_are_read() -> None:
    """The items are the run's own (`numbered_items`): an array's records, one record written
    over several lines."""
    array = io.StringIO('[{"household_id": "A"}, {"household_id": " A"}, {"household_id": "B"}]')
    screen = screen_items(numbered_items(array), "household_id")
    assert screen is not None and screen.may_repeat("A") and not screen.may_repeat("B")
    spread = io.StringIO('{\n  "household_id": "C",\n  "n": 1\n}\n')
    one = screen_items(numbered_items(spread), "household_id")
    assert one is not None and not one.may_repeat("C")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.sampled_from("ABCDEFGH")), max_size=12),
                max_size=6))
def test_one_decision_per_id_under_a_screen_holds_only_what_may_repeat(
        chunks: list[list[str | None]]) -> None:
    """The filter under the input's screen rejects exactly what it rejects holding every id,
    and holds only the ids the screen keeps."""
    line = 0
    results = []
    for ids in chunks:
        decided = []
        for record_id in ids:
            line += 1
            decided.append((record_id, line))
        results.append(ChunkResult(b"".join(f'{{"n":{n}}}\n'.encode() for _, n in decided),
                                   "", len(ids), len(ids), 0, tuple(decided)))
    counts = Counter(i for ids in chunks for i in ids if i is not None)
    screen = RepeatScreen(frozenset(text_key(i) for i, n in counts.items() if n > 1))
    held, screened = OneDecisionPerId("household_id"), OneDecisionPerId("household_id",
                                                                        screen=screen)
    for result in results:
        assert screened.filter(result) == held.filter(result)
    assert set(screened.first_line) == {i for i, n in counts.items() if n > 1}


def _repeating_file(tmp_path: Path) -> Path:
    """The examples, then their ids again: as given, spaced, on a bad record, on a record
    rejected first and decided after, in a line that is not JSON; and an id no reader takes
    (a lone surrogate), twice."""
    lines = [json.dumps(h, ensure_ascii=False) for h in EXAMPLES]
    again = dict(EXAMPLES[0])
    lines.append(json.dumps(again))
    spaced = dict(EXAMPLES[1], household_id="\u3000 " + EXAMPLES[1]["household_id"] + "\t")
    lines.append(json.dumps(spaced))
    lines.append('{"household_id": "' + EXAMPLES[2]["household_id"] + '", "broken": ')
    fresh = dict(EXAMPLES[3], household_id="NEW-1")
    lines.append(json.dumps(dict(fresh, members=[])))  # rejected: NEW-1 is not decided ...
    lines.append(json.dumps(fresh))  # ... so this one is
    lines.append(json.dumps(fresh))  # and this one repeats it
    # an id with a lone surrogate (a JSON escape), twice: rejected, and no pass trips on it
    lines += [json.dumps(dict(EXAMPLES[4], household_id="S\ud800"))] * 2
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("options", [["--engine", "record"], ["--engine", "record", "--jobs",
                                                                "2"],
                                     ["--engine", "columnar"]],
                         ids=["record", "record-jobs", "columnar"])
def test_a_file_run_holds_only_the_repeats_with_the_same_output(
        tmp_path: Path, options: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`fangpin eval` of a file (screened in a first pass) writes the bytes it writes reading
    the same text from stdin (no first pass: every id held)."""
    source = _repeating_file(tmp_path)
    runs = {}
    for way in ("file", "stdin"):
        out, rejects = tmp_path / f"{way}.jsonl", tmp_path / f"{way}.rejects"
        if way == "stdin":
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(source.read_bytes()),
                                                               encoding="utf-8"))
        code = main(["eval", str(FUJIAN), str(source) if way == "file" else "-", "--as-of",
                     "2021-09-01", *options, "-o", str(out), "--rejects", str(rejects)])
        runs[way] = (code, out.read_bytes(), rejects.read_bytes(),
                     capsys.readouterr().err.splitlines()[-1].split(" (see")[0])
    assert runs["file"] == runs["stdin"]
    assert runs["file"][3] == f"read {len(EXAMPLES) + 8}, decided {len(EXAMPLES) + 1}, " \
        "rejected 7"
    assert runs["file"][2].count(b"the id is given to another record already") == 3


@pytest.mark.parametrize("engine", ["record", "columnar"])
def test_a_file_that_changes_during_the_run_gives_no_output(
        tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A line appended between the first pass and the end of the run (its id unscreened):
    the run ends with exit 3 and writes nothing."""
    source = _repeating_file(tmp_path)
    module = "fangpin_rules.engine.repeats" if engine == "record" else \
        "fangpin_rules.cli.columnar_eval"
    name = "screen_items" if engine == "record" else "jsonl_screen"
    first_pass = getattr(__import__(module, fromlist=[name]), name)

    def then_appended(*args: Any, **kwargs: Any) -> Any:
        screen = first_pass(*args, **kwargs)
        with source.open("a", encoding="utf-8") as more:
            more.write(json.dumps(EXAMPLES[4]) + "\n")
        return screen

    monkeypatch.setattr(f"{module}.{name}", then_appended)
    out = tmp_path / "out.jsonl"
    code = main(["eval", str(FUJIAN), str(source), "--as-of", "2021-09-01", "--engine", engine,
                 "-o", str(out), "--rejects", str(tmp_path / "rejects.jsonl")])
    assert code == 3
    assert "changed while it was read" in capsys.readouterr().err
    assert not out.exists()
