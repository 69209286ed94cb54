"""Run the scopeguard CLI in this process: the same `cli.main`, without paying a Python start-up
per call (the report, baseline and --diff tests make dozens of calls)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path


def run_main(*args: str, cwd: Path | str = ".", env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Like conftest's run_cli: (exit code, stdout, stderr), run in `cwd` with `env` added."""
    from scopeguard.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env = {key: os.environ.get(key) for key in env or {}}
    saved_cwd = os.getcwd()
    try:
        os.chdir(cwd)
        os.environ.update(env or {})
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as stop:  # argparse errors
                code = stop.code
    finally:
        os.chdir(saved_cwd)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return code, out.getvalue(), err.getvalue()
