"""Reading files that someone else may have put there: regular files only, bounded, no hang.

A FIFO blocks `open()` forever, `/dev/zero` never ends, a folder cannot be read: every file
scopeguard reads from the tree or from its cache goes through `read_regular`, which opens without
blocking (O_NONBLOCK), checks the open file itself (fstat, S_ISREG) and reads at most the size that
fstat reported, refusing more than `limit` bytes. The size is taken from the open file, never from an
earlier stat, so a file swapped between a stat and the open cannot change what is read.
"""

from __future__ import annotations

import os
import stat

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a folder or a socket (or a symlink, with follow=False)."""


class TooLarge(OSError):
    """The open file is larger than the caller's limit."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, above the limit of {limit}")
        self.size = size
        self.limit = limit


def read_regular(path: str | os.PathLike[str], limit: int, *, follow: bool = True) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file and the fstat of the open file they were read from.

    Raises OSError (NotRegularFile, TooLarge, or the system's error). With follow=False a symlink
    is refused (O_NOFOLLOW: ELOOP). Bytes appended while reading are not read: at most st_size.
    """
    flags = os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY | (0 if follow else _NOFOLLOW)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{os.fspath(path)}: not a regular file")
        if info.st_size > limit:
            raise TooLarge(info.st_size, limit)
        chunks = []
        left = info.st_size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break  # truncated while reading: what was there
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks), info
    finally:
        os.close(fd)


def same_file_state(a: os.stat_result, b: os.stat_result) -> bool:
    """Two stats of one open file agree on everything a writer changes."""
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns, a.st_ino, a.st_dev) == (
        b.st_size, b.st_mtime_ns, b.st_ctime_ns, b.st_ino, b.st_dev)
