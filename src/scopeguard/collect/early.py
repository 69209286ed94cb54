"""A parse worker forked as `check` starts (issue 28: one changed file in pre-commit).

A `check` that finds one changed file spends most of its time waiting for the worker that parses it
to import libcst and the fact extractors (~0.2 s). Forked here, before the command reads its
configuration, the worker does that import while this process does the rest; the pipeline takes it
and collect/parsing.prestart() adopts it, handing it the scan settings (toggles, registries,
ceilings) as its first message. The settings are not known yet when it is forked, so it parses
nothing until then: what it runs is `_worker_main` with `init=None`, under the same ceilings as any
worker once the settings arrive.

A run where nothing changed never uses it, so forking must cost that run next to nothing: a raw
`os.fork` with a socket pair and two pipes (about 2 ms), not multiprocessing (its import and pipes
cost 25-35 ms); multiprocessing's connection objects wrap the descriptors only when the worker is
adopted. Nothing here reads the analysed tree. A worker nobody adopts (nothing changed,
`--no-cache`, an error) is killed by discard(), which `check` calls on every way out of its run.
"""

from __future__ import annotations

import os
import signal

_EARLY: tuple[int, int, int, int] | None = None  # (pid, socket, stderr pipe, exit sentinel) not adopted


def start() -> None:
    """Fork the worker now, where fork exists (elsewhere prestart starts one as before)."""
    global _EARLY
    if _EARLY is not None or not hasattr(os, "fork"):
        return
    try:
        import _socket

        ours, theirs = (s.detach() for s in _socket.socketpair())
        err_read, err_write = os.pipe()
        sentinel_read, sentinel_write = os.pipe()  # readable (EOF) once the worker has exited
    except OSError:
        return
    try:
        pid = os.fork()
    except OSError:
        for fd in (ours, theirs, err_read, err_write, sentinel_read, sentinel_write):
            os.close(fd)
        return
    if pid == 0:  # the worker: never returns into the caller's code
        code = 1
        try:
            for fd in (ours, err_read, sentinel_read):
                os.close(fd)
            _child(theirs, err_write)
            code = 0
        finally:
            os._exit(code)
    for fd in (theirs, err_write, sentinel_write):
        os.close(fd)
    _EARLY = (pid, ours, err_read, sentinel_read)


def _child(conn_fd: int, err_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # as multiprocessing does: the worker reads nothing of the user's terminal
    os.close(devnull)
    from multiprocessing.connection import Connection

    from .parsing import _worker_main

    _worker_main(Connection(conn_fd), Connection(err_fd, readable=False), None)


def take() -> tuple | None:
    """The forked worker as (process, connection, stderr connection) for the pool that adopts it
    (once), or None."""
    global _EARLY
    early, _EARLY = _EARLY, None
    if early is None:
        return None
    pid, conn_fd, err_fd, sentinel = early
    from multiprocessing.connection import Connection

    return _Forked(pid, sentinel), Connection(conn_fd), Connection(err_fd, writable=False)


def discard() -> None:
    """Kill the worker if no pool adopted it."""
    global _EARLY
    early, _EARLY = _EARLY, None
    if early is None:
        return
    pid, *fds = early
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _reap(pid)
    for fd in fds:
        os.close(fd)


class _Forked:
    """What the pool asks of a worker process (multiprocessing.Process's kill, is_alive, join,
    exitcode — negative for a signal — and sentinel), for a process forked by start()."""

    def __init__(self, pid: int, sentinel: int) -> None:
        self.pid = pid
        self.sentinel = sentinel
        self._exitcode: int | None = None

    @property
    def exitcode(self) -> int | None:
        if self._exitcode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self._exitcode
            if done:
                self._exitcode = os.waitstatus_to_exitcode(status)
        return self._exitcode

    def is_alive(self) -> bool:
        return self.exitcode is None

    def kill(self) -> None:
        if self._exitcode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def join(self, timeout: float | None = None) -> None:
        if self._exitcode is not None:
            return
        from multiprocessing.connection import wait

        if wait([self.sentinel], timeout):
            code = _reap(self.pid)
            if code is not None:
                self._exitcode = code

    def __del__(self) -> None:  # as multiprocessing closes a process's sentinel with the process
        try:
            os.close(self.sentinel)
        except OSError:
            pass


def _reap(pid: int) -> int | None:
    try:
        _done, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)
