"""`scopeguard server`: the analysis in a resident process, as a Language Server over stdio.

The server loads the config as `check` does (from the editor's workspace folder, or PROJECT /
--config), indexes the project once (facts from the cache where possible, parsing the rest in the
same contained workers as a run, with $/progress while it parses), and keeps every file's facts in
memory. On didOpen/didChange/didSave of a Python file it scans the buffer's text (not the file on
disk) through the same per-file path and ceilings as a run (`pipeline.scan_sources`), recomputes
the import graph and the rules, and publishes diagnostics for the edited file and for every file
whose findings changed (removing a toggle guard in one module can create findings in others; a
file with no findings left gets an empty list). A save or a watched change of the config file
reloads it and indexes again; of the baseline file re-reads it.

Code actions: "suppress with a reason" (the comment `fix --add-suppressions` writes, via
actions/codemods/add_suppression). There is no codemod that wraps an import in the scope's toggle
guard yet, so no such action is offered. Hover on a line with a finding or an import of a scope:
the finding, its chain and the scope's toggle.

Nothing from the tree is executed; nothing is written but the fact cache (and the private temporary
folder `scan_sources` parses a buffer from). pygls is an optional dependency (the `server` extra):
imported only by this command, never by `check`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .common import EXIT_CLEAN, UsageError, add_project_arguments, load_config, open_cache

NAME = "server"
HELP = "a Language Server over stdio: live findings, quick fixes and hovers in an editor"
EPILOG = """\
examples:
  scopeguard server                      # started by the editor, which talks to it on stdin/stdout
  scopeguard server path/to/project      # this project, whatever the editor's workspace folder
  pip install 'scopeguard-s0[server]'    # the server needs pygls

The editor settings (VS Code, Neovim, Helix) are in the README, section 'Editor integration'.

exit codes: 0 after the editor's shutdown/exit, 2 usage error (pygls missing)"""

INDEX_TOKEN = "scopeguard/index"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        import pygls  # noqa: F401
    except ImportError:
        raise UsageError("`scopeguard server` needs pygls: pip install 'scopeguard-s0[server]'") from None
    server = build_server(args)
    # The protocol owns the real stdin and stdout, through files of its own: anything else that
    # prints (a warning, a library) goes to stderr, so that no stray byte corrupts the JSON-RPC
    # stream; and sys.stdin is not the file pygls's reader thread blocks in (a forked parse worker
    # closes sys.stdin as it starts, which would wait forever for that thread's lock).
    sys.stdout.flush()
    protocol_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, sys.stdin.fileno())
    os.close(devnull)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    try:
        server.start_io(protocol_in, protocol_out)
    finally:
        server.scopeguard.close()
    return EXIT_CLEAN


class State:
    """The project as the server holds it: config, every file's facts, the current findings."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.config = None
        self.cache = None
        self.facts: dict = {}  # path -> FileFacts, in discovery order
        self.build = None  # BuildFacts
        self.violations: tuple = ()
        self.by_path: dict[str, list] = {}
        self.signature: dict[str, tuple] = {}
        self.known = None  # the baseline's entries, or None
        self.baseline_path = ""
        self.scanner = None  # collect.parsing.ResidentScanner, started at the first edit
        self.reach = None  # run.pipeline.ResidentReach: reachability's last result
        self.unchanged = False  # the last rescan gave the facts the file had (a comment, a blank line)
        self.folder = None  # the private temporary folder buffers are scanned from

    @property
    def ready(self) -> bool:
        return self.config is not None and self.build is not None

    # -- loading -------------------------------------------------------------------------------

    def load(self, progress=None) -> None:
        """Load the config and every file's facts (raises UsageError with the config's problem)."""
        from ..config import ConfigError
        from ..run.pipeline import ResidentReach, collect

        config = load_config(self.args)
        cache = open_cache(self.args, config)
        try:
            facts = collect(config, cache=cache, jobs=self.args.jobs, progress=progress)
        except ConfigError as error:
            raise UsageError(str(error)) from None
        self.close()  # the worker's settings are the old config's
        self.config, self.cache = config, cache
        self.reach = ResidentReach()  # reachability's last result, reused for edits it cannot see
        self.facts = {f.path: f for f in facts.files}
        self.build = facts.build
        self.load_baseline()

    def load_baseline(self) -> None:
        from ..run.baseline import BASELINE_NAME, BaselineError, load

        self.baseline_path = str(Path(self.config.root) / BASELINE_NAME)
        try:
            self.known = load(self.baseline_path) if os.path.isfile(self.baseline_path) else None
        except BaselineError:
            self.known = None

    # -- analysis ------------------------------------------------------------------------------

    def analyse(self) -> set[str]:
        """Recompute the findings from the facts in memory; the paths whose findings changed."""
        from ..output.lsp import findings_signature
        from ..run.pipeline import Facts, context, violations as find

        reporting = self.config.reporting
        facts = Facts(tuple(self.facts.values()), self.build)
        project = context(self.config, facts, self.reach)
        violations = find(project, reporting.select, reporting.ignore)
        self.reach.save(project.graph)
        if self.known is not None:
            from ..run.baseline import split

            violations = split(violations, self.known)[0]
        self.violations = tuple(violations)
        by_path: dict[str, list] = {}
        for v in self.violations:
            by_path.setdefault(v.path, []).append(v)
        self.by_path = by_path
        signature = findings_signature(self.violations)
        changed = {p for p in set(signature) | set(self.signature) if signature.get(p) != self.signature.get(p)}
        self.signature = signature
        return changed

    def rescan(self, path: str, data: bytes) -> bool:
        """Replace the facts of the project file at `path` by those of `data` (a buffer's text),
        scanned as a run scans a file (`pipeline.scan_sources`: a contained worker, the config's
        ceilings), by a worker kept between edits. False: not a project file."""
        from ..collect.discover import ModuleFile

        known = self.facts.get(path) or self._discovered(path)
        if known is None:
            return False
        if self.scanner is None:
            from ..base.model import ScanSettings
            from ..collect.parsing import ResidentScanner

            settings = ScanSettings.of(self.config)
            self.scanner = ResidentScanner(settings.toggles, settings.registries, self.config.limits)
        # The buffer goes to a private temporary folder of the server's (nothing from the tree
        # names a path there), as scan_sources does for a file at a git revision.
        if self.folder is None:
            import tempfile

            self.folder = tempfile.mkdtemp(prefix="scopeguard-server-")
        buffer = os.path.join(self.folder, "buffer.py")
        with open(buffer, "wb") as handle:
            handle.write(data)
        [(_digest, facts)] = self.scanner.scan([ModuleFile(known.path, buffer, known.module, known.is_package, known.extra)])
        self.unchanged = self.facts.get(path) == facts
        self.facts[path] = facts
        return True

    def close(self) -> None:
        """End the parse worker and remove the temporary folder."""
        if self.scanner is not None:
            self.scanner.close()
            self.scanner = None
        if self.folder is not None:
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def _discovered(self, path: str):
        """A Python file the index did not have (created since): its facts' identity, if the
        project's discovery names it now (else None: outside the roots, or excluded)."""
        from ..collect.discover import discover

        if not path.endswith(".py"):
            return None
        for file in discover(self.config):
            if file.path == path:
                from ..base.model import FileFacts

                return FileFacts(path=file.path, module=file.module, is_package=file.is_package, extra=file.extra)
        return None

    def forget(self, path: str) -> bool:
        return self.facts.pop(path, None) is not None

    # -- paths ---------------------------------------------------------------------------------

    def path_of(self, uri: str) -> str | None:
        """The project-relative path (forward slashes) of a file: URI inside the project, else None."""
        from pygls.uris import to_fs_path

        if self.config is None:
            return None
        fs = to_fs_path(uri)
        if not fs:
            return None
        root = os.path.realpath(self.config.root)
        full = os.path.abspath(fs)
        for candidate in (full, os.path.realpath(full)):
            if candidate.startswith(root.rstrip(os.sep) + os.sep):
                return Path(os.path.relpath(candidate, root)).as_posix()
        return None

    def uri_of(self, path: str) -> str:
        from pygls.uris import from_fs_path

        return from_fs_path(os.path.join(self.config.root, path)) or ""


def build_server(args: argparse.Namespace):
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer

    from .. import __version__
    from ..base.safeio import read_regular

    server = LanguageServer("scopeguard", __version__)
    state = State(args)
    server.scopeguard = state  # for tests and debugging

    def lines_of(path: str):
        """A file's lines: the open buffer's, else the file's on disk (regular files only)."""
        uri = state.uri_of(path)
        document = server.workspace.text_documents.get(uri)
        if document is not None:
            return document.lines
        try:
            data, _ = read_regular(os.path.join(state.config.root, path), state.config.limits.max_file_mb * 2**20,
                                   follow=False)
        except OSError:
            return None
        return data.decode("utf-8", errors="replace").splitlines(keepends=True)

    def publish(paths) -> None:
        from ..output.lsp import diagnostics_by_path

        wanted = {p: state.by_path.get(p, []) for p in paths}
        diagnostics = diagnostics_by_path([v for vs in wanted.values() for v in vs], lines_of, state.uri_of)
        for path in sorted(wanted):
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=state.uri_of(path), diagnostics=diagnostics.get(path, []))
            )

    def say(message: str, kind=types.MessageType.Error) -> None:
        server.window_show_message(types.ShowMessageParams(type=kind, message=f"scopeguard: {message}"))

    def index(progress=None) -> None:
        """(Re)load config and facts, analyse, publish every file whose findings changed."""
        before = set(state.signature)
        try:
            state.load(progress)
        except UsageError as error:
            say(str(error))
            return
        changed = state.analyse()
        publish(changed | (before - set(state.signature)))
        for document in list(server.workspace.text_documents.values()):
            edited(document.uri, publish_always=False)

    def edited(uri: str, publish_always: bool = True) -> None:
        """A buffer changed: scan its text, recompute, publish what changed."""
        if not state.ready:
            return
        path = state.path_of(uri)
        if path is None or not path.endswith(".py"):
            return
        document = server.workspace.text_documents.get(uri)
        started = time.perf_counter()
        if document is None or not state.rescan(path, document.source.encode("utf-8", errors="surrogatepass")):
            return
        scanned = time.perf_counter()
        # Findings are a function of the facts: an edit that leaves them as they were (a comment,
        # whitespace, a docstring) changes no finding, and only the edited file is published
        # again (its ranges follow the buffer's lines).
        changed = set() if state.unchanged else state.analyse()
        analysed = time.perf_counter()
        if publish_always:
            changed.add(path)
        publish(changed)
        # Where the time of an edit goes, in the editor's log of the server (bench/server_latency.py).
        server.window_log_message(types.LogMessageParams(types.MessageType.Log, (
            f"scopeguard: {path} v{document.version}: scan {scanned - started:.3f} s, graph and rules "
            f"{analysed - scanned:.3f} s{' (facts unchanged: skipped)' if state.unchanged else ''}"
            f"{' (reachability kept: the edit is one it cannot see)' if not state.unchanged and state.reach.reused else ''}, published {len(changed)} file(s) in {time.perf_counter() - analysed:.3f} s")))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls, params) -> None:
        state.close()

    @server.feature(types.INITIALIZE)
    def initialize(ls, params: types.InitializeParams) -> None:
        # The editor's workspace folder is the project, unless one was named on the command line.
        if args.project == "." and not args.config:
            folder = (params.workspace_folders or [None])[0]
            root = folder.uri if folder is not None else params.root_uri
            from pygls.uris import to_fs_path

            path = to_fs_path(root) if root else None
            if path and os.path.isdir(path):
                args.project = path

    @server.feature(types.INITIALIZED)
    async def initialized(ls, params: types.InitializedParams) -> None:
        capabilities = ls.client_capabilities
        token = None
        if capabilities.window is not None and capabilities.window.work_done_progress:
            token = INDEX_TOKEN
            try:
                await ls.work_done_progress.create_async(token)
            except Exception:  # noqa: BLE001 - the client refused: index without progress
                token = None
        if token is not None:
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title="scopeguard: indexing", percentage=0, cancellable=False))
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if token is None or (now - last[0] < 0.2 and done != total):
                return
            last[0] = now
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                message=f"parsed {done}/{total} files", percentage=int(100 * done / max(total, 1))))

        started = time.monotonic()
        index(progress)
        if token is not None:
            summary = f"{len(state.facts)} files, {len(state.violations)} findings" if state.ready else "not indexed"
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=summary))
        if state.ready:
            ls.window_log_message(types.LogMessageParams(types.MessageType.Info, (
                f"scopeguard: indexed {len(state.facts)} files of {state.config.root} in "
                f"{time.monotonic() - started:.2f} s; {len(state.violations)} findings")))
        dynamic = capabilities.workspace and capabilities.workspace.did_change_watched_files
        if dynamic and dynamic.dynamic_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=g) for g in ("**/pyproject.toml", "**/*.py",
                                                                          "**/scopeguard-baseline.json")]
            try:
                await ls.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
                    id="scopeguard/watch", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))
            except Exception:  # noqa: BLE001 - not supported after all: saves still reload
                pass

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: types.DidOpenTextDocumentParams) -> None:
        edited(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: types.DidChangeTextDocumentParams) -> None:
        edited(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls, params: types.DidSaveTextDocumentParams) -> None:
        if config_file(params.text_document.uri):
            index()
        elif baseline_file(params.text_document.uri):
            state.load_baseline()
            publish(state.analyse())
        else:
            edited(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: types.DidCloseTextDocumentParams) -> None:
        # The buffer may have held unsaved text: the file on disk is the truth again.
        if not state.ready:
            return
        path = state.path_of(params.text_document.uri)
        if path is not None and path in state.facts:
            from_disk(path)
            publish(state.analyse())

    def source_of(uri: str, path: str) -> str | None:
        """The open buffer's text, else the file's (a regular file, not followed through a link)."""
        document = server.workspace.text_documents.get(uri)
        if document is not None:
            return document.source
        try:
            data, _ = read_regular(os.path.join(state.config.root, path), state.config.limits.max_file_mb * 2**20,
                                   follow=False)
            return data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def from_disk(path: str) -> None:
        data = None
        try:
            data, _ = read_regular(os.path.join(state.config.root, path), state.config.limits.max_file_mb * 2**20,
                                   follow=False)
        except OSError:
            pass
        if data is None:
            state.forget(path) if not os.path.lexists(os.path.join(state.config.root, path)) else None
        else:
            state.rescan(path, data)

    def config_file(uri: str) -> bool:
        from pygls.uris import to_fs_path

        fs = to_fs_path(uri)
        if not fs:
            return False
        if state.config is not None and state.config.config_path:
            return os.path.realpath(fs) == os.path.realpath(state.config.config_path)
        return os.path.basename(fs) == "pyproject.toml"  # no config yet: one may appear

    def baseline_file(uri: str) -> bool:
        from pygls.uris import to_fs_path

        fs = to_fs_path(uri)
        return bool(fs and state.baseline_path and os.path.realpath(fs) == os.path.realpath(state.baseline_path))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls, params: types.DidChangeWatchedFilesParams) -> None:
        if any(config_file(change.uri) for change in params.changes):
            index()
            return
        if not state.ready:
            return
        if any(baseline_file(change.uri) for change in params.changes):
            state.load_baseline()
        open_uris = set(server.workspace.text_documents)
        for change in params.changes:
            path = state.path_of(change.uri)
            if path is None or not path.endswith(".py") or change.uri in open_uris:
                continue  # an open buffer is ahead of the disk
            from_disk(path)
        publish(state.analyse())

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: types.HoverParams):
        from ..output.lsp import hover_text

        if not state.ready:
            return None
        path = state.path_of(params.text_document.uri)
        if path is None:
            return None
        text = hover_text(state.config, state.facts.get(path), params.position.line + 1, state.by_path.get(path, []))
        if text is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls, params: types.CodeActionParams):
        from ..actions.codemods import add_suppression
        from ..output.lsp import REASON_PLACEHOLDER, suppression_action

        if not state.ready:
            return None
        path = state.path_of(params.text_document.uri)
        if path is None or not path.endswith(".py"):
            return None
        first, last = params.range.start.line + 1, params.range.end.line + 1
        findings = [v for v in state.by_path.get(path, []) if first <= v.line <= last]
        if not findings:
            return None
        source = source_of(params.text_document.uri, path)
        if source is None:
            return None
        actions = []
        for v in findings:
            matching = [d for d in params.context.diagnostics if d.code == v.code and d.range.start.line == v.line - 1]
            try:
                edited = add_suppression.apply(source, {v.line: [v.code]}, REASON_PLACEHOLDER).source
            except Exception:  # noqa: BLE001 - a buffer libcst cannot parse: no action, never a crash
                continue
            action = suppression_action(params.text_document.uri, source, edited, [v.code], diagnostics=matching)
            if action is not None and all(a.title != action.title for a in actions):
                actions.append(action)
        return actions or None

    return server
