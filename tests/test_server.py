"""`scopeguard server` end to end: a real LSP client (pytest-lsp) talks to `python -m scopeguard
server` over stdio, on a copy of fixtures/tvm_like. Open a file and see its findings; edit the
buffer and see a finding appear and go; remove a toggle guard in one module and see other files'
diagnostics change; the suppression quick fix; hover; a hostile file; a config reload."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import time

import pytest

from .conftest import REPO

pytest.importorskip("pygls", reason="the server extra: pip install -e '.[test]'")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="a test dependency: pip install -e '.[test]'")

from lsprotocol import types  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

FIXTURE = REPO / "fixtures" / "tvm_like"
PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(FIXTURE, root)
    return root


@contextlib.asynccontextmanager
async def session(root, cache, *extra):
    """A started server on `root` (the client's workspace folder), initialised; shut down after."""
    config = pytest_lsp.ClientServerConfig(
        server_command=[sys.executable, "-m", "scopeguard", "server", "--cache-dir", str(cache), *extra],
        server_env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )
    client = await config.start()
    capabilities = pytest_lsp.client_capabilities("visual-studio-code")
    await client.initialize_session(types.InitializeParams(
        capabilities=capabilities, root_uri=from_fs_path(str(root)),
        workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="proj")],
    ))
    try:
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


def uri(root, path: str) -> str:
    return from_fs_path(str(root / path))


def found(client, file_uri) -> list[tuple[str, int]]:
    """(code, 1-based line) of the diagnostics last published for a file."""
    return sorted((d.code, d.range.start.line + 1) for d in client.diagnostics.get(file_uri, ()))


async def until(predicate, timeout: float = 60.0):
    """Wait until `predicate()` holds (the client updates its diagnostics as they arrive)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the server")
        await asyncio.sleep(0.01)


async def published(client, *uris, timeout: float = 60.0):
    """Wait until every one of `uris` has been published again (a new list object)."""
    before = {u: client.diagnostics.get(u) for u in uris}
    await until(lambda: all(client.diagnostics.get(u) is not before[u] for u in uris), timeout)


def open_file(client, root, path: str, version: int = 1) -> str:
    text = (root / path).read_text(encoding="utf-8")
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri(root, path), language_id="python", version=version, text=text)))
    return text


def replace_all(client, root, path: str, text: str, version: int) -> None:
    """A didChange that replaces the whole buffer (the server must read the buffer, not the disk)."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri(root, path), version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
    ))


DRIVER = "python/tvm/driver/build.py"
DRIVER_FINDINGS = [("SG201", 21), ("SG201", 24), ("SG205", 26), ("SG206", 40), ("SG403", 18)]


@pytest.mark.asyncio
async def test_open_edit_and_undo(project, tmp_path):
    async with session(project, tmp_path / "cache") as client:
        driver = uri(project, DRIVER)
        await until(lambda: driver in client.diagnostics)  # published after indexing
        # Indexing reported progress: begin ... end, with the number of files.
        reports = client.progress_reports.get("scopeguard/index", [])
        assert isinstance(reports[0], types.WorkDoneProgressBegin) and isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert reports[-1].message == "26 files, 12 findings"
        text = open_file(client, project, DRIVER)
        await published(client, driver)
        assert sorted(found(client, driver)) == sorted(DRIVER_FINDINGS)
        sg201 = next(d for d in client.diagnostics[driver] if d.range.start.line == 20)
        assert sg201.source == "scopeguard" and sg201.severity == types.DiagnosticSeverity.Error
        assert sg201.range.start.character == 28 and sg201.range.end.character == len(
            "    from tvm.contrib import msc as msc_when_off  # inverted: runs only when msc is off")
        assert sg201.code_description.href.endswith("/docs/rules/SG201.md")

        # An unguarded import of a scope typed into a clean module's buffer (not saved).
        module = "python/tvm/runtime/module.py"
        module_uri = uri(project, module)
        original = open_file(client, project, module)
        await published(client, module_uri)
        assert found(client, module_uri) == []
        replace_all(client, project, module, original + "from tvm.contrib import msc\n", 2)
        await published(client, module_uri)
        assert found(client, module_uri) == [("SG201", 15)]
        assert "without a guard" in client.diagnostics[module_uri][0].message
        assert (project / module).read_text(encoding="utf-8") == original  # nothing written

        # Incremental edits: guard it with the scope's toggle (the buffer is edited in place).
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=module_uri, version=3),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(14, 0), types.Position(14, 0)),
                text="from tvm.support import USE_MSC\nif USE_MSC:\n    ")],
        ))
        await published(client, module_uri)
        assert found(client, module_uri) == []
        # Back to the unguarded import, then back to the file as it was.
        replace_all(client, project, module, original + "from tvm.contrib import msc\n", 4)
        await published(client, module_uri)
        assert found(client, module_uri) == [("SG201", 15)]
        replace_all(client, project, module, original, 5)
        await published(client, module_uri)
        assert found(client, module_uri) == []
        assert text == (project / DRIVER).read_text(encoding="utf-8")


PARSER = "python/tvm/script/parser/__init__.py"
GUARDED_PARSER = '"""doc"""\nfrom tvm import _RUNTIME_ONLY\n\nif not _RUNTIME_ONLY:\n    from . import relax\n'


@pytest.mark.asyncio
async def test_a_guard_in_one_module_changes_other_files(project, tmp_path):
    async with session(project, tmp_path / "cache") as client:
        top, relax_point = uri(project, "python/tvm/__init__.py"), uri(project, "python/tvm/script/parser/relax/__init__.py")
        core, cutlass = uri(project, "python/tvm/contrib/msc/core.py"), uri(project, "python/tvm/contrib/cutlass/build.py")
        await until(lambda: top in client.diagnostics and relax_point in client.diagnostics)
        assert found(client, top) == [("SG301", 9)]
        assert found(client, relax_point) == [("SG402", 2)]
        assert core not in client.diagnostics  # no findings: never published
        assert found(client, cutlass) == [("SG202", 9), ("SG204", 3)]
        original = open_file(client, project, PARSER)
        await published(client, uri(project, PARSER))

        # Guarding `from . import relax` in the parser: `import tvm` no longer loads relax that
        # way; the SG301 of tvm/__init__.py and the SG402 at the integration point go, and the
        # next chain (through tvm.contrib) shows in files nobody edited.
        replace_all(client, project, PARSER, GUARDED_PARSER, 2)
        await published(client, top, relax_point, core, cutlass)
        assert found(client, top) == [] and found(client, relax_point) == []
        assert found(client, core) == [("SG402", 1)]
        assert found(client, cutlass) == [("SG202", 9), ("SG204", 3), ("SG302", 9)]
        assert found(client, uri(project, DRIVER)) == sorted(DRIVER_FINDINGS + [("SG301", 24)])

        # Removing the guard again restores every file's diagnostics.
        replace_all(client, project, PARSER, original, 3)
        await published(client, top, relax_point, core)
        assert found(client, top) == [("SG301", 9)] and found(client, relax_point) == [("SG402", 2)]
        assert found(client, core) == []
        assert found(client, cutlass) == [("SG202", 9), ("SG204", 3)]


@pytest.mark.asyncio
async def test_suppression_code_action_and_hover(project, tmp_path):
    async with session(project, tmp_path / "cache") as client:
        driver = uri(project, DRIVER)
        await until(lambda: driver in client.diagnostics)
        open_file(client, project, DRIVER)
        await published(client, driver)
        line = 20  # 0-based: the SG201 of `from tvm.contrib import msc as msc_when_off`
        diagnostics = [d for d in client.diagnostics[driver] if d.range.start.line == line]
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=driver),
            range=types.Range(types.Position(line, 0), types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=diagnostics),
        ))
        assert [a.title for a in actions] == ["scopeguard: suppress SG201 here (write the reason)"]
        edits = actions[0].edit.changes[driver]
        assert len(edits) == 1 and edits[0].range == types.Range(types.Position(20, 0), types.Position(21, 0))
        assert edits[0].new_text == ("    from tvm.contrib import msc as msc_when_off  # inverted: runs only when msc is "
                                     "off  # scopeguard: ignore[SG201] TODO: say why this import is allowed\n")
        # Applied by the editor to the buffer: the finding goes.
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=driver, version=2),
            content_changes=[types.TextDocumentContentChangePartial(range=edits[0].range, text=edits[0].new_text)],
        ))
        await published(client, driver)
        assert ("SG201", 21) not in found(client, driver)
        assert ("SG201", 24) in found(client, driver)

        # Hover on the import of the scope the SG201 at line 24 is about: finding, scope, toggle.
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=driver), position=types.Position(23, 12)))
        text = hover.contents.value
        # The message is plain text (every punctuation character escaped: nothing from the tree is markup).
        assert text.startswith("**SG201** tvm\\.driver\\.build imports tvm\\.contrib\\.msc\\.core \\(scope tvm\\.contrib\\.msc\\)")
        assert "scope `tvm.contrib.msc`, toggle `msc` (on when `USE_MSC`, `TVM_USE_MSC` is true; decorators " \
               "`@tvm.testing.requires_msc`); guard with `if USE_MSC:`" in text
        # A chain: the SG301 at tvm/__init__.py:9.
        top = uri(project, "python/tvm/__init__.py")
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=top), position=types.Position(8, 30)))
        assert "chain: `tvm` → `tvm.script` → `tvm.script.parser` → `tvm.script.parser.relax` → `tvm.relax`" \
               in hover.contents.value
        assert "toggle `relax` (on when `_RUNTIME_ONLY`, `TVM_USE_RUNTIME_LIB` is false)" in hover.contents.value
        # A guarded import of a scope, no finding: the scope and its toggle.
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=top), position=types.Position(11, 20)))
        assert hover.contents.value.startswith("imports `tvm.relax` (no finding here)\n\nscope `tvm.relax`, toggle `relax`")
        # A line with nothing of a scope: no hover.
        assert await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=top), position=types.Position(1, 3))) is None


DEEP = "x = " + " + ".join(["1"] * 2500) + "\n"


@pytest.mark.asyncio
async def test_hostile_buffer_is_reported_not_fatal(project, tmp_path):
    marker = tmp_path / "executed"
    async with session(project, tmp_path / "cache") as client:
        module = "python/tvm/runtime/module.py"
        module_uri = uri(project, module)
        await until(lambda: uri(project, DRIVER) in client.diagnostics)
        original = open_file(client, project, module)
        await published(client, module_uri)
        # An expression beyond what the parser handles, and code that would write a file if run.
        hostile = f"open({str(marker)!r}, 'w').write('ran')\n" + DEEP
        replace_all(client, project, module, hostile, 2)
        await published(client, module_uri)
        assert found(client, module_uri) == [("SG001", 2)]
        assert "beyond what the parser handles" in client.diagnostics[module_uri][0].message
        # Not a syntax error either: bytes that do not parse.
        replace_all(client, project, module, "def (:\n", 3)
        await published(client, module_uri)
        assert found(client, module_uri) == [("SG001", 1)]
        # The server lives on: the file back to normal.
        replace_all(client, project, module, original, 4)
        await published(client, module_uri)
        assert found(client, module_uri) == []
    assert not marker.exists()
    # Nothing written into the project.
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == sorted(
        p.relative_to(FIXTURE) for p in FIXTURE.rglob("*") if "__pycache__" not in p.parts)


@pytest.mark.asyncio
async def test_config_change_reloads(project, tmp_path):
    async with session(project, tmp_path / "cache") as client:
        driver = uri(project, DRIVER)
        await until(lambda: driver in client.diagnostics)
        assert ("SG206", 40) in found(client, driver)
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + '\n[tool.scopeguard.per_file_ignores]\n"python/tvm/driver/*" = ["SG2"]\n')
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=uri(project, "pyproject.toml"), type=types.FileChangeType.Changed)]))
        await published(client, driver)
        assert found(client, driver) == [("SG403", 18)]
        # A config that does not load: said, and the server keeps what it had.
        pyproject.write_text(pyproject.read_text() + "\n[tool.scopeguard\n")
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri(project, "pyproject.toml"))))
        await until(lambda: client.messages)
        assert client.messages[-1].type == types.MessageType.Error
        assert "pyproject.toml" in client.messages[-1].message
        assert found(client, driver) == [("SG403", 18)]


def test_check_never_imports_the_server_dependencies(project, tmp_path):
    # pygls is the `server` extra, installed here: `check` must still not import it (or lsprotocol).
    code = ("import sys\nfrom scopeguard.cli import main\ncode = main(['check', '-q', '--cache-dir', sys.argv[2], sys.argv[1]])\n"
            "print(code, sorted(m for m in ('pygls', 'lsprotocol') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code, str(project), str(tmp_path / "cache")], capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert done.stdout.splitlines()[-1] == "1 []", done.stdout + done.stderr
