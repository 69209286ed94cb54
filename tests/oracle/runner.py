"""The oracle's executor: imports each case's modules for real, with the toggle off in every OFF
state, scope present and scope deleted.

Run as `python runner.py SPEC.json OUT.json` (standard library only; it never imports scopeguard).
SPEC holds the OFF states (the environment of each), the cases (their two project folders, the
modules to import, the calls to make afterwards) and the modules to import once before forking.

Each case runs in a forked child of its own, which goes through the steps (state 1 present, state 1
deleted, state 2 present, ...): before each step it removes the case's package (`pkg`, `pkg.*`)
from sys.modules, sets the state's environment, puts that tree's folder first on sys.path, imports
the entry modules one by one, then makes the calls, and writes one JSON line:

- per entry module: its outcome, "ok" | "skip:<Exception>" (pytest's Skipped, unittest.SkipTest:
  a skip, not a failure) | "error:<Exception>: <message>" (SystemExit included) | "exit:<code>"
  (the child died: os._exit) | "timeout";
- `imported`: whether the scope (SCOPE or SCOPE.*) was in sys.modules after the entries;
- `loaded`: the submodules of the case's package in sys.modules after the entries (before the calls);
- per call: its outcome ("skip:mark" when pytest would skip the function by its marks) and whether
  the call itself imported the scope.

When the child dies (os._exit, a signal, the per-step timeout) the step it was on gets that outcome
and a new child resumes at the next step. Once a state has shown both that the scope is imported
and that deleting it breaks an entry module, the case's later states are skipped: they cannot change
the verdict. Cases never share a process, so nothing one does (rebinding builtins, setting
typing.TYPE_CHECKING, filling sys.modules) reaches another; all use the same package name `pkg`.
A process holding pytest forks about ten times slower, so the harness runs the cases that use
pytest in a runner of their own with pytest imported once (`preimport`).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import sys

STEP_TIMEOUT = 10  # seconds for one case in one state and tree; a case that hangs is reported


def _outcome(error: BaseException) -> str:
    kind = type(error)
    if kind.__name__ in ("Skipped", "SkipTest"):  # pytest.skip / importorskip, unittest.SkipTest
        return f"skip:{kind.__name__}"
    if isinstance(error, SystemExit):
        return f"error:SystemExit: {error.code!r}"
    return f"error:{kind.__name__}: {str(error)[:200]}"


def _fails(outcome: str) -> bool:
    return not (outcome == "ok" or outcome.startswith("skip:") or outcome == "not-run")


def _scope_loaded(scope: str) -> bool:
    return any(name == scope or name.startswith(scope + ".") for name in list(sys.modules))


def _skipped_by_marks(function) -> bool:
    """What pytest would do with a test function before calling it: skip marks whose condition is a
    true bool (string conditions are not evaluated)."""
    for mark in getattr(function, "pytestmark", ()) or ():
        name = getattr(mark, "name", "")
        if name == "skip":
            return True
        if name == "skipif":
            args = getattr(mark, "args", ())
            condition = args[0] if args else getattr(mark, "kwargs", {}).get("condition")
            if isinstance(condition, bool) and condition:
                return True
    return False


def _step(job: dict, root: str, env: dict) -> dict:
    """Import the case's entry modules and make its calls in one state, from a fresh `pkg`."""
    package = job["scope"].split(".")[0]
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    roots = set(job["roots"].values())
    sys.path[:] = [root] + [p for p in sys.path if p not in roots]
    scope = job["scope"]
    result = {"entries": [], "imported": False, "calls": []}
    modules = {}
    for entry in job["entries"]:
        try:
            modules[entry] = importlib.import_module(entry)
            result["entries"].append([entry, "ok"])
        except BaseException as error:  # noqa: BLE001 - the outcome is the observation
            result["entries"].append([entry, _outcome(error)])
    result["imported"] = _scope_loaded(scope)
    result["loaded"] = sorted(n for n in sys.modules if n.startswith(package + "."))  # for tests/differential
    for call in job["calls"]:
        module_name, _, expr = call.rpartition(":")
        module = modules.get(module_name or job["entries"][-1])
        if module is None:
            result["calls"].append([call, "not-run", False])
            continue
        before = _scope_loaded(scope)
        match = re.fullmatch(r"(\w+)\(\)", expr)
        try:
            if match and _skipped_by_marks(getattr(module, match.group(1), None)):
                outcome = "skip:mark"
            else:
                eval(expr, vars(module))  # noqa: S307 - the case's own call, in the forked child
                outcome = "ok"
        except BaseException as error:  # noqa: BLE001
            outcome = _outcome(error)
        result["calls"].append([call, outcome, not before and _scope_loaded(scope)])
    return result


def _settled(present: dict, deleted: dict) -> bool:
    """Nothing further states can add: the scope was imported and deleting it broke an entry."""
    broke = any(not _fails(p) and _fails(d) for (_, p), (_, d) in zip(present["entries"], deleted["entries"]))
    return present["imported"] and broke


def _steps(states: list) -> list[tuple[int, str]]:
    return [(i, tree) for i in range(len(states)) for tree in ("present", "deleted")]


def _child(job: dict, states: list, start: int, out) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    steps = _steps(states)
    present = None
    for index in range(start, len(steps)):
        state_index, tree = steps[index]
        signal.alarm(STEP_TIMEOUT)
        result = _step(job, job["roots"][tree], states[state_index]["env"])
        signal.alarm(0)
        out.write((json.dumps({"step": index, "result": result}) + "\n").encode())
        out.flush()
        if tree == "present":
            present = result
        elif present is not None and _settled(present, result):
            return


def run_case(job: dict, states: list) -> list[dict]:
    """All steps of one case: [{"state": name, "present": result, "deleted": result}, ...]."""
    steps = _steps(states)
    results: dict[int, dict] = {}
    start = 0
    while start < len(steps):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            try:
                os.close(read_end)
                with os.fdopen(write_end, "wb") as out:
                    _child(job, states, start, out)
            finally:
                os._exit(0)
        os.close(write_end)
        last = start - 1
        with os.fdopen(read_end, "rb") as stream:
            for line in stream:
                try:
                    record = json.loads(line)
                except ValueError:
                    break
                results[record["step"]] = record["result"]
                last = record["step"]
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and last >= start:
            break  # done, or stopped early on purpose
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
            outcome = "timeout"
        else:
            outcome = f"exit:{os.waitstatus_to_exitcode(status)}"
        results[last + 1] = {"entries": [[e, outcome] for e in job["entries"]], "imported": False,
                             "calls": [[c, "not-run", False] for c in job["calls"]], "died": outcome}
        start = last + 2
    runs = []
    for state_index, state in enumerate(states):
        present, deleted = results.get(2 * state_index), results.get(2 * state_index + 1)
        if present is None or deleted is None:
            break
        runs.append({"state": state["name"], "present": present, "deleted": deleted})
    return runs


def main(spec_path: str, out_path: str) -> int:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.dont_write_bytecode = True
    for name in spec.get("preimport", ()):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    results = {job["case"]: run_case(job, spec["states"]) for job in spec["jobs"]}
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
