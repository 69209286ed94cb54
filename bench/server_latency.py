"""`scopeguard server` latency as an editor feels it (issue 28, point 2): after indexing, the time
from a didChange of one file to the publishDiagnostics of that file, seen by a real LSP client
(pytest-lsp) talking to `python -m scopeguard server` over stdio. Median of N edits.

    python bench/server_latency.py fixtures/tvm_like python/tvm/driver/build.py
    python bench/server_latency.py /work/scratch/proj/tvm027 python/tvm/relax/expr.py --edits 20 \\
        --reference 0.16      # a cached lint-imports run in seconds: prints the ratio (goal <= 0.25)

Each edit alternates the buffer between the file as it is and the file with one line appended (an
import of a standard module by default, or --line TEXT: an unguarded import of a scope, or a comment),
so every edit is a real change of the file's facts (a comment is not: the server skips the graph;
a plain `import X` at module level is one reachability cannot see: the server keeps its last result
and reruns the graph and rules only; a `from` import or a shifted line runs reachability again). The
server's own log line for each edit splits the time into the scan of the buffer (a parse worker),
the graph and rules over the whole project, and publishing; the medians are printed too.
Nothing is written into the project; the fact cache goes to a temporary folder unless --cache-dir
names one (a second run with the same folder indexes from the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
import pytest_lsp

SRC = Path(__file__).resolve().parent.parent / "src"
LOG = re.compile(r"v(\d+): scan ([0-9.]+) s, graph and rules ([0-9.]+) s(?: \([^)]*\))*, "
                 r"published (\d+) file\(s\) in ([0-9.]+) s")


async def measure(project: Path, path: str, edits: int, line: str, cache: str) -> dict:
    config = pytest_lsp.ClientServerConfig(
        server_command=[sys.executable, "-m", "scopeguard", "server", str(project), "--cache-dir", cache],
        server_env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    client = await config.start()
    started = time.perf_counter()
    await client.initialize_session(types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("neovim"), root_uri=from_fs_path(str(project))))
    while not any("indexed" in m.message for m in client.log_messages) and not client.messages:
        await asyncio.sleep(0.01)
    indexed = time.perf_counter() - started
    if client.messages:
        raise SystemExit(f"server: {client.messages[-1].message}")
    uri = from_fs_path(str(project / path))
    text = (project / path).read_text(encoding="utf-8")
    edited = text + ("" if text.endswith("\n") else "\n") + line + "\n"

    async def wait_for(version: int) -> None:
        while True:
            params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri:
                return

    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
    await asyncio.wait_for(wait_for(1), 600)
    times = []
    for number in range(edits):
        version = number + 2
        body = edited if number % 2 == 0 else text
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangeWholeDocument(text=body)]))
        await asyncio.wait_for(wait_for(version), 600)
        times.append(time.perf_counter() - sent)
    await asyncio.sleep(0.1)  # the last log line
    parts = [tuple(map(float, m.groups()[1:])) for m in (LOG.search(x.message) for x in client.log_messages)
             if m and int(m.group(1)) >= 2]
    kept = sum(1 for x in client.log_messages if "reachability kept" in x.message)
    summary = next(m.message for m in client.log_messages if "indexed" in m.message)
    await client.shutdown_session()
    await client.stop()
    return {"indexed": indexed, "summary": summary, "times": times, "parts": parts, "kept": kept}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("project", type=Path)
    ap.add_argument("path", help="the file to edit, relative to the project")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--line", default="import json as _scopeguard_bench_edit",
                    help="the line appended on every other edit (default: an import, which changes the file's "
                         "facts and so the whole graph and rules run; a comment changes no fact and is answered "
                         "without them)")
    ap.add_argument("--cache-dir", help="the server's fact cache (default: a temporary folder)")
    ap.add_argument("--reference", type=float, help="a cached lint-imports run, seconds: print the ratio")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="scopeguard-bench-") as temp:
        result = asyncio.run(measure(args.project.resolve(), args.path, args.edits, args.line, args.cache_dir or temp))
    times = result["times"]
    median = statistics.median(times)
    print(result["summary"])
    print(f"indexing (initialize to indexed, seen by the client): {result['indexed']:.2f} s")
    print(f"{len(times)} edits of {args.path}: didChange -> publishDiagnostics median {median:.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f})")
    if result["parts"]:
        scan, rules, files, publish = (statistics.median(p[i] for p in result["parts"]) for i in range(4))
        print(f"  server side, medians: scan of the buffer {scan:.3f} s, graph and rules {rules:.3f} s, "
              f"publishing {files:.0f} file(s) {publish:.3f} s")
    print(f"  reachability kept (the edit is one it cannot see) in {result['kept']} of {len(times)} edits")
    if args.reference:
        print(f"ratio to the reference ({args.reference:.3f} s): {median / args.reference:.2f} (issue 28 goal: <= 0.25)")


if __name__ == "__main__":
    main()
