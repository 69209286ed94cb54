"""Contained parsing: a file that crashes the parser, runs too long, takes too much memory, is not a
regular file or is too large costs only itself (SG001 with the reason); every other file is still
analysed and reported. And the facts kept in the cache are always those of the bytes parsed, even
while a writer keeps changing a file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scopeguard.collect import parsing
from scopeguard.run import pipeline
from scopeguard.cli import main
from scopeguard.config import ConfigError, load_config
from scopeguard.collect.discover import discover
from scopeguard.base.model import ParseLimits

TIMEOUT_LINE = 3  # the line of the `extra` setting in CONFIG
CONFIG = """\
[tool.scopeguard]
source_roots = ["src"]
{extra}
[tool.scopeguard.toggles.feature]
on_when_true = ["USE_FEATURE"]

[[tool.scopeguard.scopes]]
name = "app.feature"
toggle = "feature"
"""
LEAK = "from app import feature\n"
GUARDED = "import os\nif os.environ.get('USE_FEATURE') == '1':\n    from app import feature\n"
FORK = "fork" in __import__("multiprocessing").get_all_start_methods()


def make_project(root: Path, files: dict[str, str], extra: str = "") -> Path:
    (root / "pyproject.toml").write_text(CONFIG.format(extra=extra))
    base = {"src/app/__init__.py": "", "src/app/feature/__init__.py": "", "src/app/core.py": LEAK}
    for name, content in {**base, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def check(capsys, root: Path, *extra: str) -> tuple[int, list[str]]:
    cwd = os.getcwd()
    os.chdir(root)  # paths in the report are relative to the working directory
    try:
        code = main(["check", str(root), "--no-cache", "--select", "SG0,SG2", *extra])
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out.splitlines()


def sum_of(terms: int) -> str:
    return "x = " + " + ".join(["1"] * terms) + "\n"


def test_the_8000_term_sum_is_reported_and_the_rest_analysed(tmp_path, capsys):
    root = make_project(tmp_path, {"src/app/generated.py": sum_of(8000), "src/app/other.py": LEAK})
    start = time.monotonic()
    code, lines = check(capsys, root)
    assert time.monotonic() - start < 60  # libcst itself takes ~55 s and then crashes (SIGSEGV)
    assert code == 1
    assert lines[:-1] == [
        "src/app/core.py:1:17: SG201 app.core imports app.feature (scope app.feature) at import time without a "
        "guard; guard it with `if USE_FEATURE:`, move it into app.feature, or add app.core to the scope's `allow`",
        "src/app/generated.py:1:1: SG001 cannot analyse src/app/generated.py: an expression of 8,000 operands on "
        "line 1 is beyond what the parser handles; split it or exclude the file",
        "src/app/other.py:1:17: SG201 app.other imports app.feature (scope app.feature) at import time without a "
        "guard; guard it with `if USE_FEATURE:`, move it into app.feature, or add app.core to the scope's `allow`"
        .replace("add app.core", "add app.other"),
    ]
    assert lines[-1].endswith("; 4 file(s) analysed, 1 could not be parsed.")


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        (sum_of(2001), None, None),  # 2,000 operators: the limit, parsed (0.6 s)
        (sum_of(2002), 1, "an expression of 2,002 operands on line 1 is beyond what the parser handles"),
        ("import os\n\nx = (1 +\n" + " +\n".join(["1"] * 2500) + ")\n", 3,
         "an expression of 2,501 operands on line 3 is beyond"),
        ("y = f" + "()" * 2200 + "\n", 1, "an expression nested 2,200 levels deep on line 1 (operators, brackets"),
        ("y = a" + ".b" * 2200 + "\n", 1, "an expression nested 2,200 levels deep on line 1"),
        ("y = " + "not " * 2100 + "x\n", 1, "an expression nested 2,100 levels deep on line 1"),
        ("y = " + " if c else ".join(["1"] * 2100) + "\n", 1, "an expression nested 2,099 levels deep on line 1"),
        # A sum of products chains only the sum: 1,500 terms of 3 factors is 1,500 deep, not 4,500.
        ("y = " + " + ".join(["2*a*b"] * 1500) + "\n", None, None),
        ("y = " + "(" * 201 + "1" + ")" * 201 + "\n", 1, "brackets nested more than 200 deep on line 1; Python"),
        # Operators in strings and comments are not code; commas start a new expression.
        ("s = '" + "+" * 5000 + "'  # " + "-" * 5000 + "\n", None, None),
        ("t = [" + ", ".join(["a.b.c + 1"] * 3000) + "]\n", None, None),
    ],
)
def test_the_depth_precheck(source, line, reason):
    found = parsing.precheck(source.encode())
    if reason is None:
        assert found is None
    else:
        assert found is not None and found[0] == line and found[2].startswith(reason)


def _crash_on_marker(source: bytes, **kw):
    if b"CRASH_HERE" in source:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"SLEEP_HERE" in source:
        time.sleep(60)
    return _real_scan_source(source, **kw)


_real_scan_source = parsing._scan_source


@pytest.mark.skipif(not FORK, reason="the monkeypatched scanner reaches the workers through fork")
def test_a_worker_that_dies_costs_its_file_only(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parsing, "_scan_source", _crash_on_marker)
    files = {f"src/app/m{i}.py": LEAK for i in range(6)}
    files["src/app/m2.py"] = "# CRASH_HERE\n"
    files["src/app/m4.py"] = "# CRASH_HERE\n"
    root = make_project(tmp_path, files)
    code, lines = check(capsys, root, "--jobs", "1")  # one worker: replaced after each crash
    assert code == 1
    crashed = ": SG001 cannot analyse src/app/m{0}.py: the parser crashed on this file (signal 11, SIGSEGV); " \
              "exclude the file, and please report it"
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "src/app/core.py", "src/app/m0.py", "src/app/m1.py", "src/app/m2.py", "src/app/m3.py", "src/app/m4.py",
        "src/app/m5.py"]
    assert lines[3].endswith(crashed.format(2)) and lines[5].endswith(crashed.format(4))
    assert lines[-1].endswith("; 7 file(s) analysed, 2 could not be parsed.")


@pytest.mark.skipif(not FORK, reason="the monkeypatched scanner reaches the workers through fork")
def test_a_file_over_the_time_limit_is_killed_and_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parsing, "_scan_source", _crash_on_marker)
    root = make_project(tmp_path, {"src/app/slow.py": "# SLEEP_HERE\n", "src/app/other.py": LEAK},
                        extra="parse_timeout = 2\n")
    start = time.monotonic()
    code, lines = check(capsys, root)
    assert time.monotonic() - start < 30
    assert code == 1
    assert [line.split(":")[0] for line in lines[:-1]] == ["src/app/core.py", "src/app/other.py", "src/app/slow.py"]
    assert lines[2].endswith(": SG001 cannot analyse src/app/slow.py: parsing exceeded 2 s (set by parse_timeout = 2 "
                             "in pyproject.toml:LINE, which lowers scopeguard's limit for this tree); split the file or "
                             "exclude it".replace("LINE", str(TIMEOUT_LINE)))


@pytest.mark.skipif(not FORK, reason="the lowered stack limit reaches the workers through fork")
def test_a_real_parser_crash_end_to_end(tmp_path, capsys, monkeypatch):
    """libcst's native parser overflows a 512 kB stack on 180 nested brackets: a real SIGSEGV."""
    import resource

    real = parsing._limit_resources

    def small_stack(limits):
        real(limits)
        resource.setrlimit(resource.RLIMIT_STACK, (512 * 1024, resource.getrlimit(resource.RLIMIT_STACK)[1]))

    monkeypatch.setattr(parsing, "_limit_resources", small_stack)
    nested = "x = " + "(" * 180 + "1" + ")" * 180 + "\n"
    root = make_project(tmp_path, {"src/app/nested.py": nested, "src/app/other.py": LEAK})
    code, lines = check(capsys, root)
    assert code == 1
    assert [line.split(":")[0] for line in lines[:-1]] == ["src/app/core.py", "src/app/nested.py", "src/app/other.py"]
    assert "SG001 cannot analyse src/app/nested.py: the parser crashed on this file (signal 11, SIGSEGV)" in lines[1]


def test_a_real_parse_over_the_memory_limit(tmp_path):
    """A 990-term `2 ** 2 ** ...` (under the pre-check's limit) takes libcst ~140 MB: over a 64 MB ceiling."""
    source = "x = " + " ** ".join(["2"] * 990) + "\n"
    root = make_project(tmp_path, {"src/app/big.py": source})
    # The ceiling is what a worker may allocate beyond what it inherited: forked from a test process
    # that has freed a lot of heap (late in a full run), the parse can reuse that without growing.
    # So the scan runs from a fresh interpreter, as the CLI does.
    script = (
        "import json, sys\n"
        "from scopeguard.collect import parsing\n"
        "from scopeguard.collect.discover import discover\n"
        "from scopeguard.config import load_config\n"
        "from scopeguard.base.model import ParseLimits\n"
        "config = load_config(sys.argv[1])\n"
        "results = parsing.scan_files(config.toggles, discover(config), jobs=2, limits=ParseLimits(memory_mb=64))\n"
        "print(json.dumps({f.path: [d, f.error.reason if f.error else None] for d, f in results}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(root / "pyproject.toml")], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    by_path = {path: tuple(value) for path, value in json.loads(done.stdout).items()}
    assert by_path["src/app/big.py"][1] == (
        "parsing exceeded the 64 MB memory limit (scopeguard's default; --parse-memory-mb or "
        "SCOPEGUARD_PARSE_MEMORY_MB raises it); split the file or exclude it")
    assert by_path["src/app/core.py"] == (parsing.hashlib.sha256(LEAK.encode()).hexdigest(), None)
    # With the default ceiling the same file parses.
    config = load_config(root / "pyproject.toml")
    files = discover(config)
    results = parsing.scan_files(config.toggles, files, jobs=1)
    assert all(facts.error is None for _digest, facts in results)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_file_replaced_by_a_fifo_after_discovery_does_not_hang(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path, {"src/app/pipe.py": LEAK})
    real = pipeline.discover

    def then_replace(config):
        files = real(config)
        os.unlink(root / "src/app/pipe.py")
        os.mkfifo(root / "src/app/pipe.py")  # opening it for reading would block forever
        return files

    monkeypatch.setattr(pipeline, "discover", then_replace)
    code, lines = check(capsys, root)
    assert code == 1
    assert lines[1] == ("src/app/pipe.py:0:0: SG001 cannot analyse src/app/pipe.py: not a regular file (a named "
                        "pipe); scopeguard reads only regular files")


def test_the_size_cap_is_read_from_the_open_file(tmp_path, capsys):
    big = "# generated\n" + "TABLE = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)\n" * 30000  # 1.1 MB
    root = make_project(tmp_path, {"src/app/big.py": big}, extra="max_file_mb = 1\n")
    code, lines = check(capsys, root)
    assert code == 1
    assert lines[0] == ("src/app/big.py:0:0: SG001 cannot analyse src/app/big.py: too large to analyse (1.1 MB; the "
                        f"limit is 1 MB, set by max_file_mb = 1 in pyproject.toml:{TIMEOUT_LINE}, which lowers "
                        "scopeguard's limit for this tree); exclude it if it is generated")
    source, problem = parsing.read_source(str(root / "src/app/big.py"), 2 * 2**20)
    assert (source, problem) == (big.encode(), "")
    if os.path.exists("/proc/self/status"):  # a regular file whose size says 0: the cap holds while reading
        assert os.stat("/proc/self/status").st_size == 0
        source, problem = parsing.read_source("/proc/self/status", 100)
        assert source is None and problem.startswith("too large to analyse")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("parse_timeout = 0", "tool.scopeguard.parse_timeout: 0 is out of range"),
        ("parse_timeout = 'long'", "tool.scopeguard.parse_timeout: expected a number of seconds, got a string"),
        ("parse_memory_mb = 2048.5", "tool.scopeguard.parse_memory_mb: expected a whole number of MB, got a float"),
        ("parse_memory_mb = 10", "tool.scopeguard.parse_memory_mb: 10 is out of range"),
        ("max_file_mb = true", "tool.scopeguard.max_file_mb: expected a whole number of MB, got a boolean"),
    ],
)
def test_limits_are_validated(tmp_path, line, message):
    root = make_project(tmp_path, {}, extra=line + "\n")
    with pytest.raises(ConfigError) as error:
        load_config(root / "pyproject.toml")
    assert message in str(error.value)


def test_limits_are_read(tmp_path):
    root = make_project(tmp_path, {}, extra="parse_timeout = 2.5\nparse_memory_mb = 512\nmax_file_mb = 3\n")
    limits = load_config(root / "pyproject.toml").limits
    assert (limits.timeout, limits.memory_mb, limits.max_file_mb) == (2.5, 512, 3)
    assert (limits.timeout_from, limits.memory_from, limits.max_file_from) == (
        "parse_timeout = 2.5 in pyproject.toml:3", "parse_memory_mb = 512 in pyproject.toml:4",
        "max_file_mb = 3 in pyproject.toml:5")
    assert load_config(make_project(tmp_path, {}) / "pyproject.toml").limits == ParseLimits(60.0, 2048, 8)


def test_results_keep_the_callers_order_and_match_across_worker_counts(tmp_path):
    files = {f"src/app/m{i:02}.py": LEAK * (i % 7) + f"# {'x' * i * 300}\n" for i in range(40)}
    root = make_project(tmp_path, files)
    config = load_config(root / "pyproject.toml")
    found = discover(config)
    one = parsing.scan_files(config.toggles, found, jobs=1)
    assert [facts.path for _digest, facts in one] == [f.path for f in found]
    assert parsing.scan_files(config.toggles, found, jobs=3) == one


def _findings(root: Path, *extra: str) -> tuple[int, str]:
    run = subprocess.run([sys.executable, "-m", "scopeguard", "check", str(root), "--select", "SG2", "-q", *extra],
                         capture_output=True, text=True, timeout=120)
    assert "Traceback" not in run.stderr
    return run.returncode, run.stdout


def test_a_racing_writer_cannot_leave_a_cached_result_that_differs_from_no_cache(tmp_path):
    """Two `check` loops share a cache while a writer flips a file between a guarded and an
    unguarded version; whenever the writer stops, the cached answer equals the uncached one."""
    files = {f"src/app/m{i}.py": GUARDED for i in range(8)}
    root = make_project(tmp_path, {**files, "src/app/core.py": "import os\n"})
    target = root / "src/app/flip.py"
    target.write_text(GUARDED)
    versions = [GUARDED, LEAK]
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set():
            target.write_text(versions[i % 2])  # in place: a reader may even see a torn file
            i += 1
            time.sleep(0.0005 * (i % 5))

    def loop() -> None:
        while not stop.is_set():
            _findings(root)

    deadline = time.monotonic() + 40
    rounds = 0
    while rounds < 4 and time.monotonic() < deadline:
        stop.clear()
        threads = [threading.Thread(target=write), threading.Thread(target=loop), threading.Thread(target=loop)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join()
        target.write_text(versions[rounds % 2])  # the writer's last word
        cached = _findings(root)
        uncached = _findings(root, "--no-cache")
        assert cached == uncached
        assert _findings(root) == uncached  # and what that cached run stored holds too
        assert (uncached[0] == 1) == (rounds % 2 == 1)
        rounds += 1
    assert rounds >= 2


def test_where_fork_is_missing_workers_are_spawned_and_agree(tmp_path, monkeypatch):
    import multiprocessing

    root = make_project(tmp_path, {"src/app/generated.py": sum_of(8000), "src/app/guarded.py": GUARDED})
    config = load_config(root / "pyproject.toml")
    found = discover(config)
    forked = parsing.scan_files(config.toggles, found, jobs=2)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert parsing.scan_files(config.toggles, found, jobs=2) == forked


def test_where_no_process_can_start_parsing_still_finishes(tmp_path, monkeypatch, capsys):
    import multiprocessing

    root = make_project(tmp_path, {"src/app/generated.py": sum_of(8000), "src/app/guarded.py": GUARDED})
    config = load_config(root / "pyproject.toml")
    found = discover(config)
    forked = parsing.scan_files(config.toggles, found, jobs=2)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: [])
    assert parsing.scan_files(config.toggles, found, jobs=2) == forked
    assert capsys.readouterr().err == "scopeguard: parsing in this process, without time or memory limits\n"


@pytest.mark.skipif(not FORK, reason="the early worker is forked")
def test_the_worker_forked_as_check_starts_contains_a_changed_file_as_any_worker(tmp_path, capsys, monkeypatch):
    """collect/early.py: `check` forks a worker before it reads its configuration and hands it the
    settings when a file needs parsing (the one-file pre-commit run). A changed file that crashes the
    parser or runs over the time limit costs only itself there too, and a later run still works."""
    monkeypatch.setattr(parsing, "_scan_source", _crash_on_marker)
    root = make_project(tmp_path, {"src/app/edited.py": "x = 1\n", "src/app/other.py": LEAK},
                        extra="parse_timeout = 2\n")
    cache = str(tmp_path / "cache")

    def run() -> list[str]:
        cwd = os.getcwd()
        os.chdir(root)
        try:
            assert main(["check", str(root), "--cache-dir", cache, "--select", "SG0,SG2"]) == 1
        finally:
            os.chdir(cwd)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return out.splitlines()[:-1]

    def located(lines: list[str]) -> list[str]:
        return [line.split(":")[0] + " " + line.split()[1] for line in lines]

    assert located(run()) == ["src/app/core.py SG201", "src/app/other.py SG201"]
    for marker, reason in (("# CRASH_HERE\n", "the parser crashed on this file"), ("# SLEEP_HERE\n", "parsing exceeded 2 s")):
        (root / "src/app/edited.py").write_text(marker)
        start = time.monotonic()
        lines = run()
        assert located(lines) == ["src/app/core.py SG201", "src/app/edited.py SG001", "src/app/other.py SG201"]
        assert reason in lines[1]
        assert time.monotonic() - start < 30
    (root / "src/app/edited.py").write_text(LEAK)
    assert located(run()) == ["src/app/core.py SG201", "src/app/edited.py SG201", "src/app/other.py SG201"]


def _children() -> list[int]:
    """This process's child processes, zombies included (/proc; the early worker is a raw fork,
    which multiprocessing.active_children() does not know)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_a_check_leaves_no_worker_behind(tmp_path, capsys):
    """The early worker is adopted by the scan, or killed when nothing is parsed, when the cache is
    off, and when the configuration is wrong: no process outlives main(), not even unreaped."""
    root = make_project(tmp_path, {})
    before = set(_children())  # (what earlier tests left, a resource tracker: not this test's)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        for argv in (["check", str(root)], ["check", str(root)], ["check", str(root), "--no-cache"]):
            main(argv)  # cold, then nothing changed, then no cache
            assert set(_children()) <= before, argv
        (root / "src/app/core.py").write_text(LEAK + "# edited\n")
        main(["check", str(root)])  # one file parsed by the adopted worker
        assert set(_children()) <= before
        (root / "pyproject.toml").write_text("[tool.scopeguard]\nsource_roots = 3\n")
        assert main(["check", str(root)]) == 2
        assert set(_children()) <= before
    finally:
        os.chdir(cwd)
    capsys.readouterr()
