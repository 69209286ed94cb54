"""A parse worker forked as the run starts (issue 28: one changed file in pre-commit).

A `check` that finds one changed file spends most of its time waiting for the worker that parses it
to import libcst and the fact extractors (~0.2 s). Forked here, before the command imports its own
modules and reads the configuration, the worker does that import while this process does the rest;
the pipeline takes it and collect/parsing.prestart() adopts it, handing it the scan settings
(toggles, registries, ceilings) as its first message. The settings are not known yet when it is forked, so it parses nothing
until then: what it runs is `_worker_main` with `init=None`.

Nothing here reads the analysed tree. A worker nobody adopts (nothing changed, `--no-cache`, an
error) is killed by discard(), which `check` calls on every way out of its run.
"""

from __future__ import annotations

import os

_EARLY: tuple | None = None  # (process, connection, stderr pipe) of the worker not yet adopted


def start() -> None:
    """Fork the worker now, where fork exists (elsewhere prestart starts one as before)."""
    global _EARLY
    if _EARLY is not None or os.name != "posix":
        return
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return
    context = multiprocessing.get_context("fork")
    try:
        conn, child = context.Pipe(duplex=True)
        err_read, err_write = context.Pipe(duplex=False)
        process = context.Process(target=_main, args=(child, err_write), daemon=True)
        process.start()
    except (OSError, AssertionError, ValueError):  # no fork here, or a daemonic parent
        return
    child.close()
    err_write.close()
    _EARLY = (process, conn, err_read)


def take() -> tuple | None:
    """The forked worker, for the pool that adopts it (once)."""
    global _EARLY
    early, _EARLY = _EARLY, None
    return early


def discard() -> None:
    """Kill the worker if no pool adopted it."""
    early = take()
    if early is None:
        return
    process, conn, err = early
    process.kill()
    process.join()
    conn.close()
    err.close()


def _main(conn, err) -> None:
    from .parsing import _worker_main

    _worker_main(conn, err, None)
