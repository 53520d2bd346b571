"""How a run ends: outputs never destroy inputs, a failed or interrupted run leaves no partial
file, I/O failures and dead workers end with exit 3 and a reason, nothing hangs, and a record
that fails unexpectedly is that record's rejection (docs/security.md, "How runs end")."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from fangpin_rules.cli.main import main

from scale_support import varied_households
from support import FUJIAN, ROOT, household

AS_OF = "2021-09-01"
REGIONS = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
TIMEOUT = 60


def _cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", *args],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT,
                          env=_env(), **kwargs)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _popen(*args: str, stdout: int | IO[Any] = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "fangpin_rules.cli.main", *args],
                            stdin=subprocess.PIPE, stdout=stdout, stderr=subprocess.PIPE,
                            cwd=ROOT, env=_env())


def _lines(n: int, first_id: int = 0) -> bytes:
    """`n` households as JSON lines, with ids from `first_id` on (an id given twice in a run
    is a rejection)."""
    return "".join(json.dumps({**h, "household_id": f"H-{first_id + i}"}) + "\n"
                   for i, h in enumerate(varied_households(n))).encode()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.part"))


# -- outputs that name an input -------------------------------------------------------------

@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A run's files, each its own copy in a temporary folder (the repository's stay safe)."""
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps(household(household_id="A", region_code="350121")) + "\n",
                       encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text("", encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    shutil.copy(FUJIAN, policy)
    regions = tmp_path / "regions.yaml"
    shutil.copy(REGIONS, regions)
    out = tmp_path / "out.jsonl"
    out.write_text("the previous decisions\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    rejects.write_text("the previous rejects\n", encoding="utf-8")
    return {"records": records, "cases": cases, "policy": policy, "regions": regions,
            "-o": out, "--rejects": rejects}


def _same_file(target: Path, mode: str, tmp_path: Path) -> Path:
    """A path that names `target`: itself, a symlink to it, or a hard link to it."""
    if mode == "direct":
        return target
    other = tmp_path / f"alias-{mode}-{target.name}"
    if mode == "symlink":
        other.symlink_to(target)
    else:
        os.link(target, other)
    return other


def _eval_args(paths: dict[str, Path]) -> list[str]:
    return ["eval", str(paths["policy"]), str(paths["records"]), "--as-of", AS_OF,
            "-o", str(paths["-o"]), "--rejects", str(paths["--rejects"]),
            "--cases", str(paths["cases"]), "--regions", str(paths["regions"])]


EVAL_PAIRS = [(output, other) for output in ("-o", "--rejects")
              for other in ("records", "policy", "cases", "regions")] + [("-o", "--rejects")]


@pytest.mark.parametrize("mode", ["direct", "symlink", "hardlink"])
@pytest.mark.parametrize(("output", "other"), EVAL_PAIRS)
def test_eval_refuses_an_output_that_is_an_input_or_the_other_output(
        files: dict[str, Path], tmp_path: Path, output: str, other: str, mode: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = {name: _digest(path) for name, path in files.items()}
    paths = dict(files, **{output: _same_file(files[other], mode, tmp_path)})
    assert main(_eval_args(paths)) == 2
    err = capsys.readouterr().err
    assert "nothing was written" in err and "Traceback" not in err
    assert {name: _digest(path) for name, path in files.items()} == before
    assert _parts(tmp_path) == []


def test_eval_with_the_same_files_apart_runs(files: dict[str, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # The matrix above fails for the collision alone: the same run with distinct files works.
    assert main(_eval_args(files)) == 0
    assert json.loads(files["-o"].read_text())["household_id"] == "A"
    assert files["--rejects"].read_text() == ""


def test_eval_refuses_an_output_onto_a_base_the_policy_extends(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "base.yaml"
    shutil.copy(FUJIAN, base)
    county_text = (ROOT / "policies" / "counties" / "minhou_350121.yaml").read_text("utf-8")
    county = tmp_path / "county.yaml"
    county.write_text(county_text.replace("extends: fujian-2021", "extends: base.yaml", 1),
                      encoding="utf-8")
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household()) + "\n", encoding="utf-8")
    before = _digest(base)
    assert main(["eval", str(county), str(records), "--as-of", "2023-06-30",
                 "-o", str(base)]) == 2
    assert "is the policy" in capsys.readouterr().err
    assert _digest(base) == before


DIFF_PAIRS = [("-o", "records"), ("-o", "old"), ("-o", "new"), ("-o", "cases"),
              ("--impact-out", "records"), ("--impact-out", "new"), ("-o", "--impact-out")]


@pytest.mark.parametrize("mode", ["direct", "symlink", "hardlink"])
@pytest.mark.parametrize(("output", "other"), DIFF_PAIRS)
def test_diff_impact_refuses_an_output_that_is_an_input_or_the_other_output(
        files: dict[str, Path], tmp_path: Path, output: str, other: str, mode: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new.yaml"
    shutil.copy(ROOT / "policies" / "examples" / "fujian_2021_revised.yaml", new)
    report = tmp_path / "report.txt"
    report.write_text("the previous report\n", encoding="utf-8")
    names = {"old": files["policy"], "new": new, "records": files["records"],
             "cases": files["cases"], "-o": report, "--impact-out": files["-o"]}
    before = {name: _digest(path) for name, path in names.items()}
    paths = dict(names, **{output: _same_file(names[other], mode, tmp_path)})
    args = ["diff", str(paths["old"]), str(paths["new"]), "--impact", str(paths["records"]),
            "--as-of", "2022-03-01", "--cases", str(paths["cases"]),
            "-o", str(paths["-o"]), "--impact-out", str(paths["--impact-out"])]
    assert main(args) == 2
    assert "nothing was written" in capsys.readouterr().err
    assert {name: _digest(path) for name, path in names.items()} == before


# -- failures to write --------------------------------------------------------------------

@pytest.mark.parametrize("option", ["-o", "--rejects"])
def test_a_full_disk_ends_with_exit_3_and_leaves_the_other_output_as_it_was(
        files: dict[str, Path], tmp_path: Path, option: str) -> None:
    records = tmp_path / "mixed.jsonl"
    records.write_text(json.dumps(household()) + "\n{not json\n", encoding="utf-8")
    other = "--rejects" if option == "-o" else "-o"
    before = _digest(files[other])
    done = _cli("eval", str(FUJIAN), str(records), "--as-of", AS_OF, option, "/dev/full",
                other, str(files[other]))
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("No space left on device") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert _digest(files[other]) == before
    assert _parts(tmp_path) == []


def test_stdout_on_a_full_disk_is_exit_3(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household()) + "\n", encoding="utf-8")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", "eval",
                               str(FUJIAN), str(records), "--as-of", AS_OF], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=TIMEOUT, env=_env())
    assert done.returncode == 3, done.stderr
    # said once: the bytes still buffered are not written again on the way out, where they
    # failed a second time (and, at Python 3.13's exit, printed a traceback)
    assert done.stderr.count("cannot write stdout") == 1, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_diff_report_on_a_full_disk_is_exit_3() -> None:
    done = _cli("diff", str(FUJIAN), "policies/examples/fujian_2021_revised.yaml",
                "-o", "/dev/full")
    assert done.returncode == 3 and "Traceback" not in done.stderr


def test_a_closed_stdout_pipe_keeps_the_runs_exit_code() -> None:
    process = _popen("eval", str(FUJIAN), "-", "--as-of", AS_OF, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    stdin = process.stdin
    reader_gone = threading.Event()

    def feed() -> None:  # beside the reading, so neither pipe fills up and blocks the other
        with contextlib.suppress(BrokenPipeError):
            stdin.write(_lines(2100))
            stdin.flush()
            reader_gone.wait(TIMEOUT)
            stdin.write(_lines(2100, 2100) + b"{not json\n")  # one rejected: the real code is 1
        with contextlib.suppress(BrokenPipeError):
            stdin.close()

    feeder = threading.Thread(target=feed)
    feeder.start()
    process.stdout.readline()  # the first decisions are out: the reader goes away (`head -1`)
    process.stdout.close()
    reader_gone.set()
    feeder.join(TIMEOUT)
    assert process.wait(TIMEOUT) == 1
    assert process.stderr is not None
    err = process.stderr.read().decode()
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert "rejected 1" in err


def test_a_stdout_closed_before_the_run_does_not_hide_its_exit_2() -> None:
    args = ["check", "--format", "json", "tests/checker/bad/unknown_name.yaml"]
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: every write to stdout is EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", *args],
                              stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=TIMEOUT, cwd=ROOT, env=_env())
    finally:
        os.close(write_end)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


# -- interruptions --------------------------------------------------------------------------

@pytest.mark.parametrize(("sent", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_run_leaves_the_previous_output_and_no_partial_one(
        files: dict[str, Path], tmp_path: Path, sent: int, code: int) -> None:
    out = files["-o"]
    before = _digest(out)
    process = _popen("eval", str(FUJIAN), "-", "--as-of", AS_OF, "-o", str(out))
    assert process.stdin is not None and process.stderr is not None
    process.stdin.write(_lines(300))
    process.stdin.flush()
    _wait_for(lambda: bool(_parts(tmp_path)), "the output's temporary file")
    process.send_signal(sent)  # mid-way: the input is still open
    try:
        assert process.wait(TIMEOUT) == code
    finally:
        process.stdin.close()
    err = process.stderr.read().decode()
    assert "no output file was written or replaced" in err and "Traceback" not in err
    assert _digest(out) == before
    assert _parts(tmp_path) == []


# -- --jobs ------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_a_worker_killed_mid_run_fails_the_run_with_exit_3(
        files: dict[str, Path], tmp_path: Path) -> None:
    out = files["-o"]
    before = _digest(out)
    process = _popen("eval", str(FUJIAN), "-", "--as-of", AS_OF, "--jobs", "2",
                     "-o", str(out))
    assert process.stdin is not None and process.stderr is not None
    process.stdin.write(_lines(2100))  # a whole chunk (2,000 lines): the workers start
    process.stdin.flush()
    _wait_for(lambda: len(_children(process.pid)) >= 2, "the worker processes")
    os.kill(_children(process.pid)[0], signal.SIGKILL)
    try:
        process.stdin.write(_lines(4500, 2100))
        process.stdin.close()
    except BrokenPipeError:
        pass  # the run may have ended already, which is the point
    assert process.wait(TIMEOUT) == 3
    err = process.stderr.read().decode()
    assert "worker process died" in err and "from line" in err
    assert _digest(out) == before and _parts(tmp_path) == []


def _decisions(*args: str, stdin: str | None = None) -> tuple[int, str]:
    done = _cli(*args, input=stdin)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def test_jobs_2_ends_on_input_that_starts_with_a_bracket_but_is_no_array(
        tmp_path: Path) -> None:
    records = tmp_path / "bracket.jsonl"
    records.write_text('[1,\n' + json.dumps(household()) + "\n", encoding="utf-8")
    one = _decisions("eval", str(FUJIAN), str(records), "--as-of", AS_OF, "--jobs", "1")
    two = _decisions("eval", str(FUJIAN), str(records), "--as-of", AS_OF, "--jobs", "2")
    assert one == two and one[0] == 1 and one[1].count("\n") == 1


def test_jobs_2_with_a_policy_read_from_a_pipe_decides_as_jobs_1(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_bytes(_lines(30))
    text = FUJIAN.read_text(encoding="utf-8")
    one = _decisions("eval", "/dev/stdin", str(records), "--as-of", AS_OF, "--jobs", "1",
                     stdin=text)
    two = _decisions("eval", "/dev/stdin", str(records), "--as-of", AS_OF, "--jobs", "2",
                     stdin=text)
    assert one == two and one[0] == 0 and one[1].count("\n") == 30
    # ...and as the same policy given as a file (its id and digest in every decision).
    assert _decisions("eval", str(FUJIAN), str(records), "--as-of", AS_OF) == one


def test_jobs_beyond_the_cores_is_capped_with_a_warning(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_bytes(_lines(5))
    done = _cli("eval", str(FUJIAN), str(records), "--as-of", AS_OF, "--jobs", "100000")
    assert done.returncode == 0 and done.stdout.count("\n") == 5
    assert "warning: --jobs 100000 is more than the" in done.stderr


def test_a_record_error_crosses_to_a_worker_and_back_whole() -> None:
    from fangpin_rules.engine.records import RecordError, Rejection

    error = RecordError(Rejection(3, "H-1", "net_income", "not a number"))
    copy = pickle.loads(pickle.dumps(error))
    assert copy.rejection == error.rejection and str(copy) == str(error)


def test_a_policy_from_a_pipe_is_not_reread_by_spawned_workers(tmp_path: Path) -> None:
    from fangpin_rules.engine.parallel import PolicySource

    fifo = tmp_path / "policy.fifo"
    os.mkfifo(fifo)
    assert not PolicySource(str(fifo), "0" * 64).rereadable()
    assert PolicySource(str(FUJIAN), "0" * 64).rereadable()


# -- one record cannot lose a chunk -------------------------------------------------------

def test_a_record_that_breaks_the_writer_is_rejected_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text("\n".join([
        json.dumps(household(household_id="GOOD-1")),
        '{"household_id": "TINY", "formerly_poor": false, "members": [{"member_id": "1", '
        '"birth_date": "1980-05-01"}], "net_income": 30000, "previous_net_income": 1e-400, '
        '"food_clothing_secure": true, "basic_medical_secure": true, "housing_safe": true, '
        '"drinking_water_safe": true}',
        json.dumps(household(household_id="GOOD-2"))]) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    assert main(["eval", str(FUJIAN), str(records), "--as-of", AS_OF, "--explain",
                 "--rejects", str(rejects)]) == 1
    decided = [json.loads(line)["household_id"] for line in capsys.readouterr().out.splitlines()]
    assert decided == ["GOOD-1", "GOOD-2"]
    rejected = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["household_id"]) for r in rejected] == [(2, "TINY")]


def test_an_unforeseen_error_in_one_record_is_its_rejection(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fangpin_rules import load_policy
    from fangpin_rules.engine.stream import ChunkDecider

    policy = load_policy(FUJIAN)
    decider = ChunkDecider(policy, __import__("datetime").date(2021, 9, 1))
    real = policy.decide_record

    def fails_for_b(fast: Any, record: Any, *rest: Any) -> Any:
        if record.household_id == "B":
            raise ZeroDivisionError("a message that could quote personal data")
        return real(fast, record, *rest)

    monkeypatch.setattr(policy, "decide_record", fails_for_b)
    chunk = [(n, json.dumps(household(household_id=h))) for n, h in enumerate("ABC", 1)]
    result = decider.decide(chunk)
    assert (result.read, result.decided, result.rejected) == (3, 2, 1)
    assert [json.loads(line)["household_id"] for line in result.decisions.splitlines()] == [
        "A", "C"]
    rejection = json.loads(result.rejects)
    assert (rejection["line"], rejection["household_id"]) == (2, "B")
    assert "ZeroDivisionError" in rejection["reason"]
    assert "personal data" not in rejection["reason"]


# -- small things -----------------------------------------------------------------------------

def test_eval_reads_a_file_that_is_one_pretty_printed_object(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(FUJIAN), str(ROOT / "examples" / "350181-0001.json"),
                 "--as-of", AS_OF]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["household_id"] for line in captured.out.splitlines()] == [
        "350181-0001"]
    assert "read 1, decided 1, rejected 0" in captured.err


def test_lines_that_are_not_one_object_are_still_rejected_one_by_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text('{"household_id": "A",\n"x": 1\n' + json.dumps(household()) + "\n",
                       encoding="utf-8")
    assert main(["eval", str(FUJIAN), str(records), "--as-of", AS_OF]) == 1
    assert "read 3, decided 1, rejected 2" in capsys.readouterr().err


def test_the_dask_example_explains_its_arguments() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "dask_batches.py"),
                           "--help"], capture_output=True, text=True, timeout=TIMEOUT,
                          env=_env())
    assert done.returncode == 0 and "usage:" in done.stdout and "DATE" in done.stdout
    assert "Traceback" not in done.stderr


def test_an_output_through_a_symlink_replaces_the_file_it_points_to(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household()) + "\n", encoding="utf-8")
    real = tmp_path / "real.jsonl"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert main(["eval", str(FUJIAN), str(records), "--as-of", AS_OF, "-o", str(link)]) == 0
    assert link.is_symlink() and json.loads(real.read_text())["household_id"] == "T-1"


def test_an_output_that_cannot_be_created_is_exit_2_before_deciding(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household()) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    assert main(["eval", str(FUJIAN), str(records), "--as-of", AS_OF, "--rejects",
                 str(rejects), "-o", str(tmp_path / "missing" / "out.jsonl")]) == 2
    assert "No such file or directory" in capsys.readouterr().err
    assert not rejects.exists() and _parts(tmp_path) == []
