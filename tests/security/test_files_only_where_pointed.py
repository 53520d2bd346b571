"""A policy file reads files only where the user pointed: `extends:` stays inside the policy
roots, reads only regular files of bounded size, and a refusal is a positioned message that
never quotes the file it refused (docs/security.md, "Which files a run reads")."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fangpin_rules import PolicyError, load_policy
from fangpin_rules.cli.main import main

from support import FUJIAN, ROOT, household

CANARY = "CANARY-5e1f-do-not-print"
SECRET = f"api_key: {CANARY}\npassword: {CANARY}\n"
EXTENDS_AT = "county.yaml:1:10"  # where every hostile value below is written
REFUSALS = ("extends-outside", "extends-unreadable", "extends-name", "extends-missing")


@pytest.fixture(autouse=True)
def no_search_path_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)


@pytest.fixture(autouse=True)
def never_hang() -> Iterator[None]:
    """A read that blocks (a FIFO) fails the test instead of stopping the suite."""
    def stop(signum: int, frame: object) -> None:
        raise TimeoutError("the run did not finish in 20 s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def land(tmp_path: Path) -> Path:
    """tmp/secret.yaml outside the roots; the county's folder tmp/a/b with hostile neighbours."""
    (tmp_path / "secret.yaml").write_text(SECRET, encoding="utf-8")
    project = tmp_path / "a" / "b"
    project.mkdir(parents=True)
    (project / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    (project / "up").symlink_to(tmp_path, target_is_directory=True)
    (project / "loop.yaml").symlink_to(project / "loop2.yaml")
    (project / "loop2.yaml").symlink_to(project / "loop.yaml")
    os.mkfifo(project / "pipe.yaml")
    (project / "folder.yaml").mkdir()
    # a neighbour with the id asked for, but broken: its content is never shown
    (project / "broken.yaml").write_text(f"policy:\n  id: wanted\n  secret: {CANARY}\n"
                                         f"  secret: twice\n", encoding="utf-8")
    (project / "records.jsonl").write_text(json.dumps(household()) + "\n", encoding="utf-8")
    return project


def _county(project: Path, extends: str) -> Path:
    path = project / "county.yaml"
    path.write_text(f"extends: {extends}\npolicy:\n  id: test-county\n  title: 测试县\n"
                    "  effective: 2021-07-01\n", encoding="utf-8")
    return path


# /dev/zero is tried only in a separate, memory-bounded run (below): a build that read it whole
# would take the machine's memory with it.
HOSTILE = {
    "absolute-path-outside": "{tmp}/secret.yaml",
    "dot-dot-escape": "../../secret.yaml",
    "symlink-to-outside": "link.yaml",
    "symlinked-folder-to-outside": "up/secret.yaml",
    "symlink-loop": "loop.yaml",
    "fifo": "pipe.yaml",
    "folder": "folder.yaml",
    "proc-environ": "/proc/self/environ",
    "etc-passwd": "/etc/passwd",
    "300-characters": "x" * 300,
    "nul-in-name": '"base\\0.yaml"',
    "newline-in-name": '"base\\n.yaml"',
    "id-of-a-broken-neighbour": "wanted",
}
VERBS = {
    "check": lambda county: ["check", str(county)],
    "show": lambda county: ["show", str(county)],
    "eval": lambda county: ["eval", str(county), str(county.parent / "records.jsonl"),
                            "--as-of", "2021-09-01"],
}


def _assert_refused(code: int, output: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    assert CANARY not in output
    assert "root:" not in output  # the first line of /etc/passwd
    assert EXTENDS_AT in output, output
    assert any(f"error[{refusal}]" in output for refusal in REFUSALS), output


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_extends_is_refused_where_it_is_written(
        land: Path, value: str, verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    county = _county(land, value.format(tmp=land.parent.parent))
    code = main(VERBS[verb](county))
    captured = capsys.readouterr()
    _assert_refused(code, captured.out + captured.err)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    def bounded() -> None:  # on a build that reads /dev/zero whole, fail instead of swapping
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    return subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", *args],
                          capture_output=True, text=True, timeout=60, env=env,
                          preexec_fn=bounded, check=False)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FANGPIN_POLICY_PATH"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return {**env, **extra}


@pytest.mark.parametrize("value", ["/proc/self/environ", "/dev/zero", "pipe.yaml"])
def test_a_separate_run_neither_hangs_nor_prints_its_environment(land: Path,
                                                                 value: str) -> None:
    county = _county(land, value)
    done = _run(["check", str(county)], _env(FANGPIN_TEST_CANARY=CANARY))
    _assert_refused(done.returncode, done.stdout + done.stderr)


def test_a_broken_neighbour_does_not_stop_a_lookup_by_id(land: Path) -> None:
    """A FIFO, a folder, a symlink loop, a link outside and a broken file in the folder where
    the base is looked up by id: the base is still found, and nothing of them is shown."""
    shutil.copy(FUJIAN, land / "zz_province.yaml")
    (land / "huge_name.yaml").write_text("extends: " + "y" * 300 + "\npolicy:\n  id: other\n",
                                         encoding="utf-8")
    county = _county(land, "fujian-2021")
    done = _run(["check", str(county)], _env())
    assert done.returncode == 0, done.stderr
    assert CANARY not in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_the_id_of_a_broken_neighbour_names_it_without_its_content(land: Path) -> None:
    county = _county(land, "wanted")
    with pytest.raises(PolicyError) as caught:
        load_policy(county)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "extends-missing" and diagnostic.location.line == 1
    assert "broken.yaml" in diagnostic.hint and CANARY not in caught.value.render()


def test_a_base_inside_the_roots_is_read_through_a_symlink(tmp_path: Path) -> None:
    """A link that stays inside the roots is followed: only leaving them is refused."""
    project = tmp_path / "project"
    (project / "shared").mkdir(parents=True)
    shutil.copy(FUJIAN, project / "shared" / "fujian_2021.yaml")
    (project / "province.yaml").symlink_to(project / "shared" / "fujian_2021.yaml")
    assert load_policy(_county(project, "province.yaml")).id == "test-county"


def test_a_folder_on_the_policy_path_is_a_root(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(FUJIAN, elsewhere / "province.yaml")
    project = tmp_path / "project"
    project.mkdir()
    county = _county(project, str(elsewhere / "province.yaml"))
    with pytest.raises(PolicyError) as caught:
        load_policy(county)
    assert caught.value.diagnostics[0].code == "extends-outside"
    assert load_policy(county, search_path=[elsewhere]).id == "test-county"


def test_the_policy_named_on_the_command_line_must_be_a_regular_file(
        land: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(land / "folder.yaml")]) == 2
    captured = capsys.readouterr()
    assert "error[not-a-file]" in captured.err and "Traceback" not in captured.err
    done = _run(["check", "/dev/zero"], _env())
    assert done.returncode == 2 and "error[not-a-file]" in done.stderr
    assert "Traceback" not in done.stderr
    # a pipe the user names is read (once, bounded); with no writer it is simply empty
    assert main(["check", str(land / "pipe.yaml")]) == 2
    assert "error[empty-file]" in capsys.readouterr().err


def test_a_policy_piped_in_is_read_once_and_quoted_from_that_read(tmp_path: Path) -> None:
    text = FUJIAN.read_text(encoding="utf-8").replace("monitoring_line:", "monitoring_lin:", 1)
    done = subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", "check",
                           "/dev/stdin"], input=text, capture_output=True, text=True,
                          timeout=60, env=_env(), check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    output = done.stdout + done.stderr
    assert "monitoring_lin" in output and "/dev/stdin:" in output  # an excerpt of the piped text


@pytest.mark.parametrize("value", ["{tmp}/secret.yaml", "../../secret.yaml", "link.yaml",
                                   "/proc/self/environ"])
def test_a_policy_test_file_names_its_policy_only_inside_the_roots(
        land: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    tests = land / "t.yaml"
    tests.write_text(f"policy: {value.format(tmp=land.parent.parent)}\nas_of: 2021-09-01\n"
                     "cases:\n  - id: one\n    household: {formerly_poor: false}\n"
                     "    expect: {in_monitoring: false}\n", encoding="utf-8")
    code = main(["test", str(tests)])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert code == 2 and f"{tests}:1:9: error[policy-outside]" in output, output
    assert CANARY not in output and "Traceback" not in output


def test_a_test_folder_does_not_lead_out_through_a_link(
        land: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANGPIN_POLICY_PATH", str(FUJIAN.parent))
    folder = land / "tests"
    folder.mkdir()
    (folder / "escape.yaml").symlink_to(land.parent.parent / "secret.yaml")
    shutil.copy(ROOT / "policies" / "tests" / "fujian_2021" / "s02_monitoring_line.yaml",
                folder / "s02.yaml")
    (folder / "s02.yaml").write_text((folder / "s02.yaml").read_text(encoding="utf-8").replace(
        "../../fujian_2021.yaml", str(FUJIAN)), encoding="utf-8")
    code = main(["test", str(folder)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert CANARY not in captured.out + captured.err
