"""The fuzz campaign (docs/security.md): hostile records, policy files, county files, region
tables and policy test files given to the command line as a careless user or an attacker would.

Whatever comes in, every run: returns an exit code in the verb's documented set, with no
traceback and no hang; reads no file outside its own folder, the policies it was pointed at and
Python's own files, and writes none outside its folder; reports counts that add up (read =
decided + rejected, every line of the input read); and `--jobs 2` writes the same bytes as
`--jobs 1`. A policy that would run code creates a canary file: it must never exist.

Lean by default (the suite stays fast); `FANGPIN_FUZZ_EXAMPLES=N` runs a longer campaign and
`FANGPIN_FUZZ_REPORT=FILE` writes its figures (benchmarks/fuzz_campaign.py does both).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_support import CAMPAIGN, EXAMPLES, ROOT, Outcome, guarded_run, lines_of
from service_support import TOKEN

POLICIES = ROOT / "policies"
FUJIAN = POLICIES / "fujian_2021.yaml"
EXAMPLE_LINES = [json.loads(line) for line in
                 (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
CANARY = "FANGPIN_FUZZ_CANARY"

# Exit codes each verb documents (README "Use", docs/security.md "How runs end").
EVAL_CODES = {0, 1}
CHECK_CODES = {0, 2}
TEST_CODES = {0, 1, 2}


def fuzz_settings(default: int) -> settings:
    return settings(max_examples=EXAMPLES or default, deadline=None, derandomize=EXAMPLES is None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                    database=None)


def expect(kind: str, outcome: Outcome, codes: set[int]) -> None:
    problem = outcome.problem(codes)
    CAMPAIGN.record(kind, problem)
    assert problem is None, f"{kind}: {problem}\nstderr: {outcome.stderr[-2000:]}"


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Any:
    yield
    CAMPAIGN.write()


# ---------------------------------------------------------------------------------------------
# Hostile values: what a JSON value, a name or a text may be replaced by.

HOSTILE_TEXT = [
    "", " ", "a\nb", "a\rb", "\r", "a\u2028b", "\u2029", "\x1b[2J\x1b[31mred", "\x00", "\x07",
    "\u202etxt.exe", "\ufeff", "\ud800", "ﬁeld", "Ⅸ", "lambda", "None", "True", "__class__",
    "__import__('os').system('touch " + CANARY + "')", "'''", '"""', "\\", "{x}", "%s%n",
    "a" * 5000, "户主\t张三", "１２３", "x" * 300 + ".yaml", "../" * 12 + "etc/passwd",
    "/etc/passwd", "/proc/self/environ", "${HOME}", "$(touch " + CANARY + ")",
]
RAW_NUMBERS = [
    "1e-400", "1e-999999", "1e999999", "-0", "0.000000000000000000000000000001",
    "7151.9999999999999999999999999", "123456789012345678901234567890123456789",
    "1E+308", "-1", "0.1e1", "NaN", "Infinity", "1_000", "0x10", "01", "1.", ".5",
]
SCALARS: list[Any] = [None, True, False, 0, 1, -1, 2, 7152, 10**40, 0.5, 1e308, [], {}, [None],
                      {"a": 1}, "2021-02-30", "2021-13-01", "0001-01-01", "9999-12-31",
                      "20210901", "2021/09/01", "1_000", "7152", "true", "monitored"]

hostile_value = st.one_of(st.sampled_from(SCALARS), st.sampled_from(HOSTILE_TEXT),
                          st.integers(), st.text(max_size=30),
                          st.recursive(st.none() | st.booleans() | st.integers() | st.text(
                              max_size=5), lambda c: st.lists(c, max_size=3)
                              | st.dictionaries(st.text(max_size=5), c, max_size=3),
                              max_leaves=6))


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _paths(value, (*prefix, index))
    return found


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        tree = tree[step]
    tree[path[-1]] = value


def _delete(tree: Any, path: tuple[Any, ...]) -> None:
    for step in path[:-1]:
        tree = tree[step]
    del tree[path[-1]]


@st.composite
def mutated_tree(draw: st.DrawFn, base: Any, values: st.SearchStrategy[Any],
                 names: st.SearchStrategy[str]) -> Any:
    """`base` with one to three places changed: a value replaced, a key removed, a key renamed
    or an unknown key added, anywhere in the tree."""
    tree = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(tree)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "delete", "rename", "add"]))
        parent: Any = tree
        for step in path[:-1]:
            parent = parent[step]
        if action == "replace":
            _set(tree, path, draw(values))
        elif action == "delete":
            _delete(tree, path)
        elif isinstance(parent, dict):
            key = draw(names)
            if action == "rename" and path[-1] in parent:
                parent[key] = parent.pop(path[-1])
            else:
                parent[key] = draw(values)
    return tree


# ---------------------------------------------------------------------------------------------
# Records: JSON lines of mutated households, with raw-text hostilities no dict can express.

RAW_TEXT_EDITS: list[Callable[[str], str]] = [
    lambda line: line,
    lambda line: "\ufeff" + line,
    lambda line: line.replace('"members"', '"members\r"', 1),
    lambda line: line.replace(', "', ',\r "', 1),
    lambda line: line.replace('": "', '": "\u2028', 1),
    lambda line: line.replace("{", '{"household_id": "dup", ', 1),  # a duplicate key
    lambda line: line[: len(line) // 2],  # cut in half
    lambda line: line + " trailing",
    lambda line: line + "\r",  # a CRLF line end
]


@st.composite
def record_line(draw: st.DrawFn, index: int) -> str:
    base = dict(draw(st.sampled_from(EXAMPLE_LINES)))
    base["household_id"] = f"fz-{index}"
    keys = st.sampled_from(["household_id", "members", "net_income", "unknown_field",
                            "region_code", "dibao", *HOSTILE_TEXT[:12]])
    household = draw(st.one_of(st.just(base), mutated_tree(base, hostile_value, keys)))
    text = json.dumps(household, ensure_ascii=draw(st.booleans()))
    number = draw(st.sampled_from([None, *RAW_NUMBERS]))
    if number is not None:  # a number JSON can spell but Python's json would not write
        text = text.replace('"net_income": ', f'"net_income": {number}, "_x": ', 1) \
            if draw(st.booleans()) else text.replace(
                '"previous_net_income": ', f'"previous_net_income": {number}, "_y": ', 1)
    return draw(st.sampled_from(RAW_TEXT_EDITS))(text)


@st.composite
def record_file(draw: st.DrawFn) -> list[str]:
    return [draw(record_line(i)) for i in range(draw(st.integers(1, 12)))]


def _eval(folder: Path, lines: list[str], *extra: str) -> Outcome:
    records = folder / "households.jsonl"
    records.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    return guarded_run(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01",
                        "-o", "decisions.jsonl", "--rejects", "rejects.jsonl", *extra], folder)


@fuzz_settings(15)
@given(record_file())
def test_hostile_records_are_decided_or_rejected_and_counted(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        outcome = _eval(folder, lines, "--explain")
        expect("records", outcome, EVAL_CODES)
        counts = outcome.counts
        assert counts is not None, outcome.stderr
        read, decided, rejected = counts
        assert read == decided + rejected
        assert read == len(lines), "a line was lost or split in two"
        assert decided == len(lines_of(folder / "decisions.jsonl"))
        assert rejected == len(lines_of(folder / "rejects.jsonl"))
        size_in = sum(len(line) for line in lines)
        size_out = (folder / "decisions.jsonl").stat().st_size
        assert size_out <= 200 * size_in + 100_000, "a record blew up into a huge decision"


@fuzz_settings(3)
@given(record_file())
def test_two_workers_write_what_one_writes(lines: list[str]) -> None:
    outputs = []
    for jobs in ("1", "2"):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            outcome = _eval(folder, lines, "--jobs", jobs)
            expect("records --jobs", outcome, EVAL_CODES)
            outputs.append(((folder / "decisions.jsonl").read_bytes(),
                            (folder / "rejects.jsonl").read_bytes(), outcome.counts))
    assert outputs[0] == outputs[1]


# ---------------------------------------------------------------------------------------------
# Policy files: the province's and the counties', with hostile names, keys and texts.

PROVINCE_TREE = yaml.safe_load(FUJIAN.read_text(encoding="utf-8"))
COUNTY_FILES = sorted((POLICIES / "counties").glob("*.yaml"))

HOSTILE_EXPRESSIONS = [
    "__import__('os').system('touch " + CANARY + "')", "len.__self__.open('/etc/passwd')",
    "().__class__.__bases__[0].__subclasses__()", "(lambda: 1)()", "members.__len__()",
    "open('/etc/passwd')", "exec('x')", "eval('1')", "1 if True else 2", "net_income ** 99999",
    "(" * 500 + "1" + ")" * 500, "not " * 3000 + "true", "net_income / 0", "count(count)",
    "as_of + 99999999 days", "m.x for m in members", "1; import os",
]
hostile_name = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(min_size=1, max_size=12))
policy_value = st.one_of(hostile_value, st.sampled_from(HOSTILE_EXPRESSIONS))


def _check(folder: Path, tree: Any, *extra: str) -> Outcome:
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8",
                    errors="surrogatepass")
    return guarded_run(["check", str(path), *extra], folder)


def _no_canary(folder: Path) -> None:
    assert not (folder / CANARY).exists(), "a policy file ran code"
    assert not (Path.cwd() / CANARY).exists(), "a policy file ran code"


@fuzz_settings(15)
@given(mutated_tree(PROVINCE_TREE, policy_value, hostile_name))
def test_a_hostile_province_policy_is_checked_never_run(tree: Any) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        outcome = _check(folder, tree)
        expect("policy", outcome, CHECK_CODES)
        _no_canary(folder)


@st.composite
def named_by_hostile(draw: st.DrawFn) -> Any:
    """The province's file with a definition, decision, object field or parameter renamed to a
    hostile name (its uses left as they were): names are where code generation was attacked."""
    tree = copy.deepcopy(PROVINCE_TREE)
    section = draw(st.sampled_from(["definitions", "decisions", "parameters", "procedure"]))
    names = list(tree[section])
    old = draw(st.sampled_from(names))
    new = draw(hostile_name)
    if section == "decisions" and draw(st.booleans()):
        tree[section]["cadre"]["fields"][new] = tree[section]["cadre"]["fields"].pop("pairing")
    else:
        tree[section][new] = tree[section].pop(old)
    return tree


@fuzz_settings(15)
@given(named_by_hostile())
def test_hostile_names_never_reach_generated_code(tree: Any) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        outcome = _check(folder, tree)
        expect("policy names", outcome, CHECK_CODES)
        _no_canary(folder)


@st.composite
def county_file(draw: st.DrawFn) -> tuple[str, Any]:
    path = draw(st.sampled_from(COUNTY_FILES))
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    return path.name, draw(mutated_tree(tree, policy_value, hostile_name))


@fuzz_settings(12)
@given(county_file())
def test_a_hostile_county_file_is_checked_within_its_roots(named: tuple[str, Any]) -> None:
    _, tree = named
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        outcome = _check(folder, tree, "--policy-path", str(POLICIES))
        expect("county policy", outcome, CHECK_CODES)
        _no_canary(folder)


# ---------------------------------------------------------------------------------------------
# Region tables (CSV) and policy test files.

REGION_ROWS = list(csv.reader(io.StringIO(
    (POLICIES / "regions" / "fujian_example_regions.csv").read_text(encoding="utf-8"))))
region_cell = st.one_of(st.sampled_from(HOSTILE_TEXT + RAW_NUMBERS), st.text(max_size=20),
                        st.just("9" * 200_000))


@st.composite
def region_table(draw: st.DrawFn) -> str:
    rows = [list(row) for row in REGION_ROWS]
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, len(rows[row]) - 1))
        rows[row][column] = draw(region_cell)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    prefix = draw(st.sampled_from(["", "\ufeff"]))
    return prefix + buffer.getvalue()


@fuzz_settings(10)
@given(region_table())
def test_a_hostile_region_table_is_refused_or_used(table: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "regions.csv").write_text(table, encoding="utf-8", errors="surrogatepass")
        lines = [json.dumps(line) for line in EXAMPLE_LINES[:4]]
        outcome = _eval(folder, lines, "--regions", "regions.csv")
        expect("region table", outcome, EVAL_CODES | {2})
        if outcome.code in EVAL_CODES:
            counts = outcome.counts
            assert counts is not None and counts[0] == counts[1] + counts[2] == len(lines)


TEST_FILES = sorted((POLICIES / "tests" / "fujian_2021").glob("*.yaml"))


@st.composite
def policy_test_file(draw: st.DrawFn) -> Any:
    tree = yaml.safe_load(draw(st.sampled_from(TEST_FILES)).read_text(encoding="utf-8"))
    tree = draw(mutated_tree(tree, hostile_value, hostile_name))
    if isinstance(tree, dict):
        tree["policy"] = str(FUJIAN)  # the test file now lives in a temporary folder
    return tree


@fuzz_settings(10)
@given(policy_test_file())
def test_a_hostile_policy_test_file_fails_cleanly(tree: Any) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "cases.yaml"
        path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        outcome = guarded_run(["test", str(path)], folder)
        expect("test file", outcome, TEST_CODES)


# ---------------------------------------------------------------------------------------------
# Service requests: hostile HTTP requests against the real `fangpin serve` on 127.0.0.1.
#
# Whatever the request, the answer is never a 500 and never a traceback; an error is an RFC 9457
# problem with the status it says; the counts of a batch add up; no ID number a request carries
# comes back or reaches the server's log unmasked, and no name put in a household's values is
# echoed at all; and the server answers /health after every request.

SERVICE_ID = "350121199001011234"  # an 18-character resident ID a request may carry
SERVICE_NAME = "欧阳娜娜"  # a person's name a request may carry
SERVICE_STATUSES = {200, 400, 401, 404, 405, 413, 415, 422}
SERVICE_MAX_BODY = 200_000
SERVICE_MAX_BATCH = 40
ID_KEYS = {"household_id", "member_id", "case_id"}  # echoed by the contract, as given

# A request's own fields (as_of, policy, the query, the path) may be echoed in a problem, bounded
# and with ID numbers masked; a household's values never are: the name goes only there.
request_text = st.sampled_from([*HOSTILE_TEXT, SERVICE_ID, f"x{SERVICE_ID}", SERVICE_ID + "\n",
                                f"{SERVICE_ID[:6]} {SERVICE_ID}"])
request_value = st.one_of(hostile_value, request_text)
service_value = st.one_of(hostile_value, request_text, st.sampled_from(
    [SERVICE_NAME, f"{SERVICE_NAME} {SERVICE_ID}", f"户主{SERVICE_NAME}"]))


@st.composite
def service_household(draw: st.DrawFn) -> Any:
    """An example household with places changed; the ID number and the name only at places
    the contract does not echo (never its ids)."""
    base = copy.deepcopy(draw(st.sampled_from(EXAMPLE_LINES)))
    tree = draw(st.one_of(st.just(base), mutated_tree(base, service_value, st.one_of(
        st.sampled_from(["net_income", "region_code", "dibao", "unknown", SERVICE_ID]),
        st.text(max_size=8)))))
    if isinstance(tree, dict):
        _clean_ids(tree)
    return tree


def _clean_ids(tree: Any) -> None:
    """An id that holds the ID number or the name is given a plain one: a decision echoes the
    ids it was given, by contract."""
    if isinstance(tree, dict):
        for key, value in list(tree.items()):
            if key in ID_KEYS and (not isinstance(value, str) or _carries(value)):
                tree[key] = "fz-id"
            else:
                _clean_ids(value)
    elif isinstance(tree, list):
        for item in tree:
            _clean_ids(item)


def _carries(text: str) -> bool:
    return SERVICE_ID in text or SERVICE_NAME in text


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def service_body(draw: st.DrawFn) -> tuple[str, bytes]:
    """(what it is, the body's bytes)."""
    as_of = draw(st.one_of(st.just("2021-09-01"), request_value))
    envelope_keys = st.sampled_from(["as_of", "policy", "cases", "lang", "unknown",
                                     SERVICE_ID])
    kind = draw(st.sampled_from(["one", "one", "batch", "ndjson", "huge", "deep", "bytes",
                                 "shape", "many"]))
    if kind == "one":
        envelope: Any = {"household": draw(service_household()), "as_of": as_of}
        if draw(st.booleans()):
            envelope = draw(mutated_tree(envelope, request_value, envelope_keys))
        return kind, _json_bytes(envelope)
    if kind == "batch":
        households = draw(st.lists(service_household(), min_size=1, max_size=6))
        return kind, _json_bytes({"households": households, "as_of": as_of,
                                  **({"policy": draw(request_value)} if draw(st.booleans())
                                     else {})})
    if kind == "ndjson":
        lines = [json.dumps(h, ensure_ascii=False) for h in
                 draw(st.lists(service_household(), min_size=1, max_size=6))]
        lines = [draw(st.sampled_from(RAW_TEXT_EDITS))(line) for line in lines]
        return kind, ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if kind == "huge":  # past the body limit, declared or streamed
        filler = draw(st.sampled_from([b" ", b"[1,", b'{"a":']))
        return kind, filler * (SERVICE_MAX_BODY // len(filler) + 2)
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1_000, 50_000]))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        inner = opener * depth + b"1" + closer * depth
        return kind, b'{"as_of": "2021-09-01", "household": ' + inner + b"}"
    if kind == "bytes":
        return kind, draw(st.binary(max_size=400))
    if kind == "many":  # more households than the batch limit
        return kind, _json_bytes({"households": [EXAMPLE_LINES[0]] * (SERVICE_MAX_BATCH + 1),
                                  "as_of": "2021-09-01"})
    return kind, _json_bytes(draw(request_value))


SERVICE_PATHS = ["/v1/decide", "/v1/decide", "/v1/decide", "/v1/explain", "/v1/policies",
                 "/v1/policies/fujian-2021", f"/v1/policies/{SERVICE_ID}",
                 "/v1/schema/household", "/v1/schema/%00", "/openapi.json", "/health",
                 "/ready", "/metrics", "/v1/decide/../metrics", "/v1/" + "a" * 3000,
                 "/v1/policies/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/%ff%fe", "/v1/decide?"]
SERVICE_TYPES = [None, "application/json", "application/json", "application/x-ndjson",
                 "application/json; charset=latin-1", "APPLICATION/JSON", "text/plain",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/jsonl", "*/*", "application/json;" + "a" * 3000, ""]


@st.composite
def service_request(draw: st.DrawFn) -> dict[str, Any]:
    kind, body = draw(service_body())
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "HEAD",
                                   "OPTIONS", "PATCH"]))
    auth = draw(st.sampled_from(["valid", "valid", "valid", None, "Bearer wrong",
                                 "Basic dXNlcjpwYXNz", "Bearer " + "a" * 10_000,
                                 f"Bearer {SERVICE_ID}", "bearer", "Bearer x y"]))
    headers: dict[str, str] = {}
    if auth is not None:
        headers["Authorization"] = f"Bearer {TOKEN}" if auth == "valid" else auth
    media = draw(st.sampled_from(SERVICE_TYPES))
    if media is not None:
        headers["Content-Type"] = media
    if draw(st.booleans()):
        headers[draw(st.sampled_from(["X-Forwarded-For", "Accept", "X-Decision-Id",
                                      "Content-Encoding", "Accept-Language"]))] = \
            draw(st.sampled_from(["gzip", "*/*", SERVICE_ID, "x" * 4000, "zh", "1.1.1.1"]))
    query = draw(st.dictionaries(
        st.sampled_from(["as_of", "policy", SERVICE_ID, "", "a" * 500, "lang"]),
        st.one_of(st.just("2021-09-01"), st.just("fujian-2021"), request_text), max_size=3))
    return {"kind": kind, "method": method, "path": draw(st.sampled_from(SERVICE_PATHS)),
            "headers": headers, "params": query, "content": body}


RAW_REQUESTS = [
    b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
    b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
    b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}",
    b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
    b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"BREW /coffee HTCPCP/1.0\r\n\r\n",
    b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello
    b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
    b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"as_of\"",  # cut off
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service_support import copy_policies, start_server, stop

    folder = tmp_path_factory.mktemp("fuzz-serve")
    copy_policies(folder)
    (folder / "tokens.txt").write_text(TOKEN + "\n", encoding="utf-8")
    running = start_server(["policies", "--tokens", "tokens.txt", "--max-body-bytes",
                            str(SERVICE_MAX_BODY), "--max-batch", str(SERVICE_MAX_BATCH),
                            "--time-limit", "15", "--reload-interval", "0",
                            "--decision-log", "decisions.log"], folder)
    yield running, folder
    stop(running)
    log = running.output() + (folder / "decisions.log").read_text(encoding="utf-8",
                                                                  errors="replace")
    problem = _service_log_problem(log)
    CAMPAIGN.record("service log", problem)
    assert problem is None, problem


def _service_log_problem(log: str) -> str | None:
    if "Traceback (most recent call last)" in log:
        at = log.index("Traceback (most recent call last)")
        return "crash: a traceback in the server's log: " + log[max(0, at - 300):at + 3000]
    if SERVICE_ID in log or SERVICE_NAME in log:
        return "echo: personal data in the server's log"
    return None


def _answer_problem(request: dict[str, Any], response: Any) -> str | None:
    """Why an answer breaks the campaign's properties, or None."""
    status = response.status_code
    text = response.content.decode("utf-8", "replace")
    if status >= 500 or status not in SERVICE_STATUSES:
        return f"crash: status {status}: {text[:300]}"
    if "Traceback" in text:
        return "crash: a traceback in the answer"
    shown = text + "".join(f"{k}: {v}\n" for k, v in response.headers.items())
    if SERVICE_ID in shown or SERVICE_NAME in shown:
        return "echo: personal data in the answer: " + text[:300]
    if request["method"] == "HEAD" or (status == 200 and not response.headers.get(
            "content-type", "").startswith("application/json")):
        return None  # metrics text, an NDJSON stream (checked below), a HEAD
    try:
        body = json.loads(text)
    except ValueError:
        return f"crash: the answer is not JSON: {text[:300]}"
    if status >= 400:
        if response.headers.get("content-type") != "application/problem+json" or \
                body.get("status") != status or not str(body.get("type", "")).startswith(
                    "urn:fangpin:problem:"):
            return f"crash: not a problem+json of its status: {text[:300]}"
        return None
    if isinstance(body, dict) and "counts" in body:
        counts = body["counts"]
        if counts["read"] != counts["decided"] + counts["rejected"] or \
                counts["decided"] != len(body["decisions"]) or \
                counts["rejected"] != len(body["rejects"]):
            return f"loss: counts do not add up: {counts}"
    return None


def _url(request: dict[str, Any]) -> str:
    """The path with its query string, every byte of it percent-encoded (a lone surrogate
    as the bytes that spell it)."""
    from urllib.parse import quote

    pairs = [quote(key.encode("utf-8", "surrogatepass"), safe="") + "=" +
             quote(value.encode("utf-8", "surrogatepass"), safe="")
             for key, value in request["params"].items()]
    return request["path"] + ("?" + "&".join(pairs) if pairs else "")


def _ndjson_problem(request: dict[str, Any], response: Any) -> str | None:
    if response.status_code != 200 or not response.headers.get(
            "content-type", "").startswith("application/x-ndjson"):
        return None
    lines = [json.loads(line) for line in response.text.splitlines() if line]
    counts = lines[-1].get("counts", {})
    answered = lines[:-1]
    sent = [line for line in request["content"].decode("utf-8", "surrogateescape").splitlines()
            if line and not line.isspace()]
    if counts.get("read") != counts.get("decided", 0) + counts.get("rejected", 0) or \
            counts.get("read") != len(answered) or counts.get("read") != len(sent):
        return f"loss: NDJSON counts {counts} for {len(sent)} lines sent"
    return None


@fuzz_settings(40)
@given(service_request())
def test_hostile_service_requests_get_a_problem_never_a_crash(
        service: tuple[Any, Path], request: dict[str, Any]) -> None:
    import httpx

    server, _ = service
    with httpx.Client(base_url=server.base, timeout=30) as client:
        try:
            response = client.request(request["method"], _url(request),
                                      headers=request["headers"], content=request["content"])
        except httpx.TransportError as exc:
            problem: str | None = f"crash: the connection failed: {exc}"
        else:
            problem = _answer_problem(request, response) or _ndjson_problem(request, response)
        if problem is None and client.get("/health").status_code != 200:
            problem = "hang: the server stopped answering /health"
    CAMPAIGN.record("service requests", problem)
    assert problem is None, f"{request['kind']} {request['method']} {request['path'][:80]}: " \
        f"{problem}"


@pytest.mark.parametrize("raw", RAW_REQUESTS, ids=range(len(RAW_REQUESTS)))
def test_malformed_http_is_refused_and_the_server_serves_on(
        service: tuple[Any, Path], raw: bytes) -> None:
    import socket

    import httpx

    server, _ = service
    host, port = server.base.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass  # refusing by closing the connection is an answer too
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    problem = None
    if status is not None and (status >= 500 or status not in SERVICE_STATUSES):
        problem = f"crash: status {status}: {answer[:200]!r}"
    elif b"Traceback" in answer:
        problem = "crash: a traceback in the answer"
    elif httpx.get(server.base + "/health", timeout=10).status_code != 200:
        problem = "hang: the server stopped answering /health"
    CAMPAIGN.record("malformed HTTP", problem)
    assert problem is None, f"{raw[:60]!r}: {problem}"
