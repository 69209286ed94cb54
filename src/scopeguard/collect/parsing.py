"""Contained parsing: files -> (content hash, FileFacts), where one file can cost only itself.

libcst's native parser can crash the whole process (a SIGSEGV on a generated 8,000-term sum), run
for minutes or take gigabytes on hostile or generated input. So no file is parsed in the process
that reports: each is parsed in a worker process with

- a memory ceiling (RLIMIT_AS: what the worker may allocate beyond what it inherited),
- a wall-time limit per file, enforced by this process (the worker is killed and replaced),
- death detection: a worker that dies by a signal costs the file it held, never the run.

Such a file becomes facts with an error (SG001) that says what happened; every other file is still
parsed and reported. Peak memory is bounded by design: the ceiling times the number of workers.

Cheap pre-checks run before libcst sees a file: only a regular file is opened (non-blocking, so a
FIFO cannot hang the run), its size is capped while reading from the open file, and an expression
nested beyond what libcst handles (a long operator chain, deep brackets) is rejected by a byte scan.
The pre-checks only save time: anything they miss is still stopped by the worker's limits.

The worker hashes exactly the bytes it parses and returns the hash with the facts, so the caller
stores facts under the content they were made from, even if the file changes while it runs.
Results come back in the caller's order whatever the workers' timing: output is deterministic.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import signal
import stat
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence

from .discover import ModuleFile
from ..base.model import FileFacts, ParseError, ParseLimits, Registries, Toggle

# An expression deeper than this (its operator chains, brackets, calls and attribute accesses, see
# _measure) is rejected before libcst sees it. libcst's parse time grows roughly cubically with the
# depth (a `1 + 1 + ...` sum: 1,000 terms 0.12 s, 2,000 0.6 s, 4,000 3.4 s, 6,000 9.4 s; 8,000
# crashes after ~55 s); other shapes cost more per level (3,000 nested conditional expressions:
# 6.7 s and 1.5 GB). CPython itself cannot compile a chain of about 3,000 (RecursionError). The
# deepest expression in 17,033 real files (the stdlib, sympy, botocore, TVM 0.27 and more) is 559.
MAX_DEPTH = 2000
# CPython's own limit ("too many nested parentheses"): a file beyond it cannot be imported at all.
MAX_BRACKETS = 200

# Reasons (wording lives here; the SG001 rule prefixes "cannot analyse <path>: ").
_INTERNAL = "internal error while scanning"
_CRASHED = "the parser crashed on this file"
_TIMEOUT = "parsing exceeded"
_MEMORY = "parsing exceeded the"
# Outcomes that depend on the limits, the machine or scopeguard itself, not only on the bytes:
# never stored as facts of the file (the next run parses it again).
_NOT_FACTS = (_INTERNAL, _CRASHED, _TIMEOUT)

Task = tuple[str, str, str, bool, bool]  # abspath, path, module, is_package, extra
Result = tuple["str | None", FileFacts]  # sha256 hex digest of the bytes parsed (None: not read)


def cacheable(facts: FileFacts) -> bool:
    """Whether facts are a property of the file's bytes alone (and may be stored under their hash)."""
    return facts.error is None or not (facts.error.internal or facts.error.reason.startswith(_NOT_FACTS))


def scan_files(
    toggles: Sequence[Toggle],
    files: Sequence[ModuleFile],
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    registries: Registries | None = None,
    limits: ParseLimits | None = None,
    scanner: Callable[..., object] | None = None,
) -> list[Result]:
    """(digest, facts) for each file, in the order of `files`.

    `scanner` replaces the facts scanner (a module-level function called as the facts scanner is,
    with the file's bytes and `path`, `module`, `is_package`, `extra`, `matcher` keywords): it runs
    in the same contained workers, within the same limits, and its result takes the place of the
    facts; a file it could not finish still gives FileFacts with the error (`init`'s toggle search)."""
    scan = start_scan(toggles, files, jobs, progress, registries, limits, scanner=scanner)
    return [(digest, facts) for digest, facts, _ in scan.wait()]


# Up to this many files, the parent does not import libcst before forking: the workers import it
# themselves, while the parent reads the fact store (a one-file run pays for the import on another
# core). Beyond, they inherit it from the parent (one import, pages shared).
_LAZY_IMPORT_FILES = 8


class Scan:
    """Files being parsed by workers, started by start_scan: the caller does other work meanwhile,
    then wait() gives (digest, facts, record) for each file in the caller's order. `record` is the
    store entry the worker encoded (collect.cache.Record), None where the facts are not cacheable."""

    def __init__(self, pool: "_Pool | None", tasks: list) -> None:
        self._pool = pool
        self._tasks = tasks

    def wait(self) -> list[tuple]:
        if self._pool is None:
            return []
        try:
            return self._pool.finish()
        finally:
            self.close()

    def close(self) -> None:
        """End the workers (what wait() does once it has the results)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def start_scan(
    toggles: Sequence[Toggle],
    files: Sequence[ModuleFile],
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    registries: Registries | None = None,
    limits: ParseLimits | None = None,
    scanner: Callable[..., object] | None = None,
    pool: "_Pool | None" = None,
) -> Scan:
    """Start parsing `files` in workers and return at once; Scan.wait() collects the results.
    `pool`: prestart()'s worker, started with the same settings (closed here when nothing is to
    be parsed)."""
    if not files:
        if pool is not None:
            pool.close(kill=True)  # idle, perhaps still importing libcst: nothing of ours to lose
        return Scan(None, [])
    limits = limits or ParseLimits()
    tasks = [(f.abspath, f.path, f.module, f.is_package, f.extra) for f in files]
    jobs = max(1, min(jobs or os.cpu_count() or 1, (len(tasks) + 3) // 4))
    if len(tasks) > _LAZY_IMPORT_FILES:
        # Imported here, before the workers are forked, so that none of them imports libcst again.
        from .. import facts as _facts  # noqa: F401
    if pool is None or pool.init != (tuple(toggles), registries, limits, scanner):
        if pool is not None:
            pool.close(kill=True)
        pool = _Pool(jobs, (tuple(toggles), registries, limits, scanner))
    else:
        pool.size = max(jobs, len(pool.workers))
    try:
        pool.start(tasks, progress)
    except BaseException:
        pool.close()
        raise
    return Scan(pool, tasks)


def prestart(toggles: Sequence[Toggle], registries: Registries | None = None, limits: ParseLimits | None = None,
             scanner: Callable[..., object] | None = None, adopted: tuple | None = None) -> "_Pool | None":
    """One worker started now, before the caller knows what to parse: it imports libcst while the
    caller reads the fact store. Hand it to start_scan (which closes it if nothing is to be parsed).
    `adopted`: collect/early.py's worker, forked earlier still; it gets the settings now."""
    pool = _Pool(1, (tuple(toggles), registries, limits or ParseLimits(), scanner))
    if adopted is not None:
        try:
            if scanner is not None:
                raise ValueError("a test's scanner is not sent to a worker")
            pool.workers.append(_Worker(None, pool.init, adopted))
            return pool
        except Exception:  # it died, or the settings do not pickle: a worker started as before
            adopted[0].kill()
            adopted[0].join()
            for handle in adopted[1:]:
                handle.close()
    try:
        if pool._start() is None:
            pool.close()
            return None
    except BaseException:
        pool.close()
        raise
    return pool


class ResidentScanner:
    """scan_files for a resident process (`scopeguard server`): the same workers, ceilings and
    results, with the pool kept between calls, so that rescanning one edited file does not pay for
    starting a worker each time. close() ends the workers."""

    def __init__(self, toggles: Sequence[Toggle], registries: Registries | None = None,
                 limits: ParseLimits | None = None, jobs: int = 1) -> None:
        from .. import facts as _facts  # noqa: F401  (the workers inherit libcst)

        init = (tuple(toggles), registries, limits or ParseLimits(), None)
        self._pool = _Pool(max(1, jobs), init)

    def scan(self, files: Sequence[ModuleFile]) -> list[Result]:
        """(digest, facts) for each file, in the order of `files`."""
        return [(digest, facts) for digest, facts, _ in
                self._pool.run([(f.abspath, f.path, f.module, f.is_package, f.extra) for f in files], None)]

    def close(self) -> None:
        self._pool.close()


def _with_record(result: Result) -> tuple:
    """(digest, facts, record): the store entry encoded where the facts are made (in the worker,
    in parallel), so the parent neither encodes them nor sends them through the codec again."""
    digest, facts = result
    record = None
    if digest is not None and isinstance(facts, FileFacts) and cacheable(facts):
        from .codec import encode_record

        try:
            record = encode_record(facts)
        except (TypeError, ValueError, RecursionError):
            record = None
    return digest, facts, record


# -- one file, as a worker runs it ---------------------------------------------------------------


def scan_task(task: Task, matcher, limits: ParseLimits, scanner=None) -> Result:
    """Read one file once, hash and scan those same bytes. Never raises for bad input."""
    abspath, path, module, is_package, extra = task

    def failed(line: int, column: int, reason: str, internal: bool = False) -> FileFacts:
        return FileFacts(path=path, module=module, is_package=is_package, extra=extra,
                         error=ParseError(line, column, reason, internal=internal))

    source, problem = read_source(abspath, limits.max_file_mb * 2**20)
    if source is None and problem.startswith(_TOO_LARGE):
        problem = problem.replace("); exclude", f", {limit_origin(limits.max_file_from, '--max-file-mb', 'SCOPEGUARD_MAX_FILE_MB')}); exclude", 1)
    if source is None:
        return None, failed(0, 0, problem)
    digest = hashlib.sha256(source).hexdigest()
    too_deep = precheck(source)
    if too_deep is not None:
        return digest, failed(*too_deep)
    # A syntax tree is hundreds of thousands of acyclic objects that die with the scan; the cyclic
    # collector would walk them again and again while they are built (15-20% of parse time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return digest, (scanner or _scan_source)(source, path=path, module=module, is_package=is_package,
                                                 matcher=matcher, extra=extra)
    except MemoryError:
        return digest, failed(1, 1, _memory_reason(limits), internal=True)
    except Exception as error:  # a scanner bug must cost one file, never the run
        return digest, failed(1, 1, f"{_INTERNAL} ({type(error).__name__}: {error}); please report it", internal=True)
    finally:
        if collecting:
            gc.enable()


def _scan_source(source: bytes, **kw) -> FileFacts:
    from ..facts import scan_source

    return scan_source(source, **kw)


def read_source(abspath: str, max_bytes: int) -> tuple[bytes | None, str]:
    """The bytes of a regular file, read from one open file and at most `max_bytes` of them;
    or None and why not. Opened non-blocking, so a FIFO or a device cannot hang the run."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(abspath, flags)
    except OSError as error:
        return None, f"cannot read: {error.strerror or error}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"not a regular file ({_file_kind(info.st_mode)}); scopeguard reads only regular files"
        if info.st_size > max_bytes:
            return None, _too_large(info.st_size, max_bytes)
        chunks, total = [], 0
        while total <= max_bytes:  # the size seen by fstat is a hint: the file may grow meanwhile
            # In bounded chunks: os.read allocates all it is asked for, and a limit of gigabytes
            # asked at once would fail the worker's memory ceiling on any file.
            chunk = os.read(fd, min(max_bytes + 1 - total, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            return None, _too_large(total, max_bytes)
        return b"".join(chunks), ""
    except OSError as error:
        return None, f"cannot read: {error.strerror or error}"
    finally:
        os.close(fd)


_CHUNK = 1 << 20
_TOO_LARGE = "too large to analyse"


def _too_large(size: int, max_bytes: int) -> str:
    # Parsing costs ~10 s and ~1 GB per 5 MB of code: a file this large is generated data.
    return (f"{_TOO_LARGE} ({size / 2**20:.1f} MB; the limit is {max_bytes >> 20} MB); "
            "exclude it if it is generated")


def limit_origin(origin: str, option: str, variable: str) -> str:
    """Where a parse limit that made a file unanalysable was set, for its SG001 message."""
    if not origin:
        return f"scopeguard's default; {option} or {variable} raises it"
    if origin in (option, variable):
        return f"set by {origin}"
    return f"set by {origin}, which lowers scopeguard's limit for this tree"


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a file"


# -- the depth pre-check -------------------------------------------------------------------------

# Bytes that can deepen an expression: operators, attribute dots, brackets (calls, subscripts).
_DEEPENING = b"+-*/%@&|^~.([{"
_KEYWORDS = (b"not", b"if", b"else", b"lambda", b"await")
# Where a new statement surely starts in ordinary code: the byte scan below runs only on a file
# with a stretch between two such places that holds enough deepening bytes to exceed the limit.
_STATEMENT_START = re.compile(
    rb"\n[ \t]*(?=(?:def|class|return|if|elif|else|for|while|with|try|except|finally|import|from|raise|"
    rb"assert|pass|del|yield|async|global|nonlocal|break|continue)\b|@)"
)
_TOKEN = re.compile(
    rb"(?P<s>'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*(?:\"\"\"|\Z)"
    rb"|'(?:[^'\\\r\n]|\\.|\\\r?\n)*'?|\"(?:[^\"\\\r\n]|\\.|\\\r?\n)*\"?)"
    rb"|(?P<c>\#[^\r\n]*)|(?P<k>\\\r?\n)|(?P<n>\r?\n|\r)|(?P<o>[(\[{])|(?P<x>[)\]}])"
    rb"|(?P<r>[,;]|:=?|(?:\*\*|//|<<|>>|[-+*/%@&|^])?=(?!=)|->)"
    rb"|(?P<op>\*\*|//|<<|>>|[-+*/%@&|^~]|\.(?![0-9]))|(?P<kw>(?<![\w])(?:not|if|else|lambda|await)\b)"
    rb"|(?P<num>[0-9][0-9a-zA-Z_.]*)",
    re.DOTALL,
)


def precheck(source: bytes, max_depth: int = MAX_DEPTH) -> tuple[int, int, str] | None:
    """(line, column, reason) when an expression is nested beyond what libcst handles, else None."""
    if not _may_be_deep(source, max_depth):
        return None
    return _measure(source, max_depth)


def _may_be_deep(source: bytes, limit: int) -> bool:
    """A cheap necessary condition, in ordinary code, for `_measure` to find an expression deeper
    than `limit` or brackets nested deeper than MAX_BRACKETS."""
    def deep(text: bytes) -> bool:
        opening = text.count(b"(") + text.count(b"[") + text.count(b"{")
        deepening = len(text) - len(text.translate(None, _DEEPENING)) + sum(text.count(k) for k in _KEYWORDS)
        return opening > MAX_BRACKETS or deepening > limit

    return deep(source) and any(deep(chunk) for chunk in _STATEMENT_START.split(source))


# How tightly each operator binds (higher: tighter). An operator deepens the tree by one and ends the
# chains of the operators that bind tighter: in `a*b + c*d + e*f` the products are one level each
# and only the sum chains. A trailer (`.name`, a call, a subscript) binds tightest of all.
_BINDING = {b"if": 1, b"lambda": 1, b"not": 2, b"|": 3, b"^": 4, b"&": 5, b"<<": 6, b">>": 6, b"+": 7, b"-": 7,
            b"*": 8, b"/": 8, b"//": 8, b"%": 8, b"@": 8, b"~": 9, b"**": 10, b"await": 11, b".": 12}
_TRAILER = 12


def _measure(source: bytes, limit: int) -> tuple[int, int, str] | None:
    """Walk the tokens (strings and comments skipped), estimating how deep each expression's tree
    is: the open chains of operators (one count per binding level) plus the brackets around them;
    a comma, colon, `=` or `;` starts a new expression. The first logical line over the limit is
    measured to its end and reported."""
    line = 1
    stack: list[tuple[int, list[int]]] = []  # (base, chains) of the enclosing brackets
    base, chains = 0, [0] * (_TRAILER + 1)
    over = first = deepest = longest = 0  # first: the line where the current statement began
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        if kind == "op" or kind == "kw":
            level = _BINDING.get(match.group())
            if level is None:  # `else` continues the `if` it belongs to
                continue
            first = first or line
            chains[level] += 1
            for tighter in range(level + 1, _TRAILER + 1):
                chains[tighter] = 0
        elif kind == "x":
            if not stack:
                continue
            base, chains = stack.pop()
            chains[_TRAILER] += 1  # the bracketed atom, call or subscript
        elif kind == "o":
            first = first or line
            stack.append((base, chains))
            base, chains = base + sum(chains) + 1, [0] * (_TRAILER + 1)
            if len(stack) > MAX_BRACKETS:
                return (line, 1, f"brackets nested more than {MAX_BRACKETS} deep on line {line}; Python itself "
                                 "refuses this (too many nested parentheses)")
            continue
        elif kind == "n":
            if not stack:
                if over:
                    break
                first = 0
                chains = [0] * (_TRAILER + 1)
            line += 1
            continue
        elif kind == "r":
            chains = [0] * (_TRAILER + 1)
            if not stack:
                first = 0
            continue
        elif kind == "s":
            line += match.group().count(b"\n")
            continue
        else:
            if kind == "k":
                line += 1
            continue
        depth = base + sum(chains)
        if depth > limit:
            over = over or first
            deepest = max(deepest, depth)
            longest = max(longest, *chains[3:9], chains[10])  # the binary operators
    if not over:
        return None
    if longest > limit:
        return (over, 1, f"an expression of {longest + 1:,} operands on line {over} is beyond what the parser "
                         "handles; split it or exclude the file")
    return (over, 1, f"an expression nested {deepest:,} levels deep on line {over} (operators, brackets, calls "
                     "or attribute accesses) is beyond what the parser handles; split it or exclude the file")


# -- the workers ---------------------------------------------------------------------------------


def _memory_reason(limits: ParseLimits) -> str:
    return (f"{_MEMORY} {limits.memory_mb} MB memory limit "
            f"({limit_origin(limits.memory_from, '--parse-memory-mb', 'SCOPEGUARD_PARSE_MEMORY_MB')}); "
            "split the file or exclude it")


def _death_reason(exitcode: int | None, stderr: bytes, limits: ParseLimits) -> str:
    if b"memory allocation of" in stderr or b"MemoryError" in stderr:
        return _memory_reason(limits)  # libcst's native code aborts when an allocation fails
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown"
        return f"{_CRASHED} (signal {-exitcode}, {name}); exclude the file, and please report it"
    return f"{_CRASHED} (the worker exited with status {exitcode}); exclude the file, and please report it"


def _worker_main(conn, err, init) -> None:
    """A worker: one task at a time from `conn`, (digest, facts) back, until None or EOF. `init`
    None (collect/early.py: forked before the settings were known): they are its first message."""
    gc.freeze()  # what a forked worker inherits is never collected here: no walk over the parent's heap
    os.dup2(err.fileno(), 2)  # a native abort's last words reach the parent, not the user's terminal
    err.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    import faulthandler

    faulthandler.disable()  # a crash is reported as a finding, not as a dump on the terminal
    # Imported before the ceiling is set (the ceiling is what a parse may take beyond the worker's
    # own size): a worker forked before its parent imported libcst imports it here.
    from ..facts import ToggleMatcher

    if init is None:
        try:
            init = conn.recv()
        except (EOFError, OSError):
            return
        if init is None:
            return
    toggles, registries, limits, scanner = init
    matcher = ToggleMatcher(toggles, registries)
    _limit_resources(limits)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, item = task
        result = _with_record(scan_task(item, matcher, limits, scanner))
        try:
            conn.send((index, result))
        except (OSError, ValueError):
            return


def _limit_resources(limits: ParseLimits) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the time limit still holds
        return
    for name, value in (("RLIMIT_CORE", 0), ("RLIMIT_AS", _vm_size() + limits.memory_mb * 2**20)):
        kind = getattr(resource, name, None)
        if kind is None:
            continue
        try:
            _soft, hard = resource.getrlimit(kind)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(kind, (value, hard))
        except (OSError, ValueError):
            pass


def _vm_size() -> int:
    """This process's address space (what a forked worker inherits), 0 where /proc is missing."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _Worker:
    def __init__(self, context, init, adopted: tuple | None = None) -> None:
        if adopted is not None:  # collect/early.py's worker: started, waiting for `init`
            self.process, self.conn, err_read = adopted
            self.conn.send(init)
        else:
            self.conn, child = context.Pipe(duplex=True)
            err_read, err_write = context.Pipe(duplex=False)
            self.process = context.Process(target=_worker_main, args=(child, err_write, init), daemon=True)
            try:
                self.process.start()
            finally:
                child.close()
                err_write.close()
        self.err = err_read
        self.err_open = True
        os.set_blocking(self.err.fileno(), False)
        self.stderr = b""
        self.task: int | None = None
        self.deadline = 0.0

    def drain(self) -> None:
        """Keep the tail of what the worker wrote on stderr."""
        while self.err_open:
            try:
                data = os.read(self.err.fileno(), 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.err_open = False
                return
            self.stderr = (self.stderr + data)[-4096:]

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        if self.process.is_alive():
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
            self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        for handle in (self.conn, self.err):
            handle.close()


# A file this large yields a syntax tree of a few hundred MB while it is parsed: at most one such file
# is parsed at a time, so peak memory stays near one large tree plus the workers' base, as when
# the largest files went to one worker (TVM 0.27: 3 files; torch 2.13: a dozen).
_LARGE_FILE = 192 * 1024


class _Pool:
    """Up to `size` workers, one task each at a time, replaced when they die or run out of time."""

    def __init__(self, size: int, init) -> None:
        import multiprocessing

        self.size = size
        self.init = init
        self.limits: ParseLimits = init[2]
        self.workers: list[_Worker] = []
        methods = multiprocessing.get_all_start_methods()
        # fork: the worker starts with libcst already imported. spawn: where fork is missing.
        self.contexts = [multiprocessing.get_context(m) for m in ("fork", "spawn") if m in methods]

    def _start(self) -> _Worker | None:
        while self.contexts:
            try:
                worker = _Worker(self.contexts[0], self.init)
            except (OSError, AssertionError, ValueError) as error:  # no fork here, or a daemonic parent
                failed = self.contexts.pop(0)
                print(f"scopeguard: cannot start a {failed.get_start_method()} worker ({error})", file=sys.stderr)
                continue
            self.workers.append(worker)
            return worker
        return None

    def run(self, tasks: Sequence[Task], progress) -> list[tuple]:
        self.start(tasks, progress)
        return self.finish()

    def start(self, tasks: Sequence[Task], progress) -> None:
        """Hand the first tasks to workers and return (finish() does the rest)."""
        self._tasks = tasks
        self._out: list[tuple | None] = [None] * len(tasks)
        self._progress = progress
        # Largest files first: a 1 MB file parsed last would leave the other workers idle while it
        # runs (torch has several). Results go back to the caller's order.
        self._sizes = [_size(task[0]) for task in tasks]
        self._queue = deque(sorted(range(len(tasks)), key=self._sizes.__getitem__, reverse=True))
        self._done = 0
        self._dispatch()

    def _finish_one(self, index: int, result) -> None:
        self._out[index] = result if len(result) == 3 else _with_record(result)
        self._done += 1
        if self._progress:
            self._progress(self._done, len(self._tasks))

    def _dispatch(self) -> None:
        queue, sizes, tasks = self._queue, self._sizes, self._tasks

        def large_in_flight() -> bool:
            return any(w.task is not None and sizes[w.task] >= _LARGE_FILE for w in self.workers)

        while queue:
            worker = next((w for w in self.workers if w.task is None), None)
            if worker is None and len(self.workers) < self.size:
                worker = self._start()
            if worker is None:
                break
            if sizes[queue[0]] >= _LARGE_FILE and large_in_flight():
                # One large file at a time: its tree is what peak memory is made of. The other
                # workers take the smallest files meanwhile.
                if sizes[queue[-1]] >= _LARGE_FILE:
                    break  # only large files left: wait for the one in flight
                index = queue.pop()
            else:
                index = queue.popleft()
            try:
                worker.conn.send((index, tasks[index]))
            except (OSError, ValueError):  # died while idle: replace it and try again
                queue.appendleft(index)
                self._remove(worker)
                continue
            worker.task, worker.deadline = index, time.monotonic() + self.limits.timeout

    def finish(self) -> list[tuple]:
        """Run the tasks start() was given to the end: (digest, facts, record) for each, in order."""
        from multiprocessing.connection import wait

        queue, tasks, finish = self._queue, self._tasks, self._finish_one
        while queue or any(w.task is not None for w in self.workers):
            self._dispatch()
            busy = [w for w in self.workers if w.task is not None]
            if not busy:  # no worker process can be started at all: parse here, without limits
                print("scopeguard: parsing in this process, without time or memory limits", file=sys.stderr)
                from ..facts import ToggleMatcher

                toggles, registries, _limits, scanner = self.init
                matcher = ToggleMatcher(toggles, registries)
                while queue:
                    index = queue.popleft()
                    finish(index, scan_task(tasks[index], matcher, self.limits, scanner))
                break
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            watched = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            ready = wait(watched + [w.err for w in busy if w.err_open], timeout)
            for worker in busy:
                if worker.err_open and worker.err in ready:
                    worker.drain()
                if worker.conn in ready or worker.process.sentinel in ready:
                    self._collect(worker, tasks, finish)
                elif time.monotonic() >= worker.deadline:
                    index = worker.task
                    self._remove(worker, kill=True)
                    origin = limit_origin(self.limits.timeout_from, "--parse-timeout", "SCOPEGUARD_PARSE_TIMEOUT")
                    reason = f"{_TIMEOUT} {self.limits.timeout:g} s ({origin}); split the file or exclude it"
                    finish(index, _failed(tasks[index], reason))
        out, self._out = self._out, []
        return out  # type: ignore[return-value]

    def _collect(self, worker: _Worker, tasks: Sequence[Task], finish) -> None:
        """The worker's answer, or, if it died, facts that say how."""
        index = worker.task
        try:
            if worker.conn.poll():
                got, result = worker.conn.recv()  # a whole message, or EOF if it died while sending
                if got == index:
                    worker.task = None
                    finish(index, result)
                    return
        except (EOFError, OSError):
            pass
        worker.process.join(5.0)
        worker.drain()
        reason = _death_reason(worker.process.exitcode, worker.stderr, self.limits)
        self._remove(worker)
        finish(index, _failed(tasks[index], reason))

    def _remove(self, worker: _Worker, kill: bool = False) -> None:
        self.workers.remove(worker)
        worker.stop(kill)

    def close(self, kill: bool = False) -> None:
        for worker in self.workers:
            worker.stop(kill)
        self.workers = []


def _failed(task: Task, reason: str) -> Result:
    _abspath, path, module, is_package, extra = task
    return None, FileFacts(path=path, module=module, is_package=is_package, extra=extra,
                           error=ParseError(1, 1, reason, internal=True))


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
