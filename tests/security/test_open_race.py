"""A name checked inside the policy roots and then swapped for a symbolic link before it is
opened does not escape: the file opened is verified, and the file outside never read
(source/files.py `read_inside`, docs/security.md "Which files a run reads")."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.policy.inherit import resolve
from fangpin_rules.source import files
from fangpin_rules.source.files import FileRefused, read_inside

CANARY = "CANARY-outside-the-roots-7f3a"


def _layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """policies/county.yaml extends sub/base.yaml; outside/sub/base.yaml is the canary."""
    policies = tmp_path / "policies"
    (policies / "sub").mkdir(parents=True)
    (policies / "sub" / "base.yaml").write_text("policy:\n  id: base\n  title: inside\n",
                                                encoding="utf-8")
    county = policies / "county.yaml"
    county.write_text("extends: sub/base.yaml\npolicy:\n  id: county\n", encoding="utf-8")
    outside = tmp_path / "outside" / "sub"
    outside.mkdir(parents=True)
    (outside / "base.yaml").write_text(f"policy:\n  id: base\n  title: {CANARY}\n",
                                       encoding="utf-8")
    return policies, county, outside / "base.yaml"


def _swap_folder(policies: Path, outside_file: Path) -> None:
    os.rename(policies / "sub", policies / "sub_moved")
    os.symlink(outside_file.parent, policies / "sub")


def _swap_file(policies: Path, outside_file: Path) -> None:
    os.remove(policies / "sub" / "base.yaml")
    os.symlink(outside_file, policies / "sub" / "base.yaml")


def _install(monkeypatch: pytest.MonkeyPatch, swap: object, policies: Path,
             outside_file: Path) -> list[int]:
    """Swap the link in just before the open; record the inode of every file read."""
    real_open = files._open
    done = []

    def racing_open(path: str, flags: int) -> int:
        if not done and path.endswith("base.yaml"):
            done.append(path)
            swap(policies, outside_file)  # type: ignore[operator]
        return real_open(path, flags)

    inodes: list[int] = []
    real_read = os.read

    def spying_read(fd: int, n: int) -> bytes:
        inodes.append(os.fstat(fd).st_ino)
        return real_read(fd, n)

    monkeypatch.setattr(files, "_open", racing_open)
    monkeypatch.setattr(files.os, "read", spying_read)
    return inodes


@pytest.mark.parametrize("swap", [_swap_folder, _swap_file], ids=["folder", "file"])
@pytest.mark.parametrize("proc", [True, False], ids=["proc", "no-proc"])
def test_a_link_swapped_in_after_the_check_is_never_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: object, proc: bool) -> None:
    policies, _, outside_file = _layout(tmp_path)
    outside_inode = outside_file.stat().st_ino
    if not proc:
        monkeypatch.setattr(files, "_fd_path", lambda fd: None)
    inodes = _install(monkeypatch, swap, policies, outside_file)
    with pytest.raises(FileRefused) as refused:
        read_inside(str(policies / "sub" / "base.yaml"), [str(policies)], 1000)
    assert refused.value.code == "file-changed"
    assert CANARY not in refused.value.message
    assert outside_inode not in inodes


def test_through_extends_the_refusal_is_at_the_extends_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policies, county, outside_file = _layout(tmp_path)
    outside_inode = outside_file.stat().st_ino
    inodes = _install(monkeypatch, _swap_folder, policies, outside_file)
    with pytest.raises(PolicyError) as raised:
        resolve(county)
    (problem,) = raised.value.diagnostics
    assert problem.code == "extends-unreadable"
    assert (problem.location.line, problem.location.column) == (1, 10)
    assert "replaced" in problem.message and CANARY not in str(raised.value)
    assert outside_inode not in inodes


def test_without_a_swap_the_base_is_read(tmp_path: Path) -> None:
    policies, county, _ = _layout(tmp_path)
    assert b"inside" in read_inside(str(policies / "sub" / "base.yaml"), [str(policies)], 1000)
    chain = resolve(county).inheritance
    assert chain is not None and [link.id for link in chain.chain] == ["base", "county"]


def test_a_racing_thread_never_gets_the_outside_file_read(tmp_path: Path) -> None:
    """A real race: a thread flips the folder between inside and outside while the base is
    read again and again; every read gives the inside file or a refusal, never the canary."""
    import threading

    policies, _, outside_file = _layout(tmp_path)
    inside = policies / "sub"
    moved = policies / "sub_inside"
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            os.rename(inside, moved)
            os.symlink(outside_file.parent, inside)
            os.remove(inside)
            os.rename(moved, inside)

    thread = threading.Thread(target=flip, daemon=True)
    thread.start()
    seen = {"read": 0, "refused": 0}
    try:
        for _ in range(2000):
            try:
                raw = read_inside(str(inside / "base.yaml"), [str(policies)], 1000)
            except FileRefused:
                seen["refused"] += 1
                continue
            assert CANARY.encode() not in raw
            seen["read"] += 1
    finally:
        stop.set()
        thread.join()
        if not inside.exists() and moved.exists():
            if inside.is_symlink():
                inside.unlink()
            shutil.move(str(moved), str(inside))
    assert seen["read"] + seen["refused"] == 2000


def test_a_test_files_policy_swapped_after_its_check_is_never_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test file's `policy:` is checked inside the roots when the test file is read, and
    read when its first case runs: a folder swapped for a link in between is refused there."""
    from fangpin_rules.testing.runner import run_tests

    policies, _, outside_file = _layout(tmp_path)
    tests = policies / "checks.yaml"
    tests.write_text("policy: sub/base.yaml\nas_of: 2021-09-01\nbase: {}\ncases:\n"
                     "  - {id: one, expect: {category: null}}\n", encoding="utf-8")
    inside_inode = (policies / "sub" / "base.yaml").stat().st_ino
    outside_inode = outside_file.stat().st_ino
    inodes = _install(monkeypatch, _swap_folder, policies, outside_file)
    run = run_tests([tests])
    (result,) = run.results
    assert result.status == "error" and "replaced" in (result.message or "")
    assert CANARY not in (result.message or "")
    assert outside_inode not in inodes and inside_inode not in inodes
