"""Reading files that someone else may have put there, and writing files where someone else may
have planted a link.

Reading: regular files only, bounded, no hang.

A FIFO blocks `open()` forever, `/dev/zero` never ends, a folder cannot be read: every file
scopeguard reads from the tree or from its cache goes through `read_regular`, which opens without
blocking (O_NONBLOCK), checks the open file itself (fstat, S_ISREG) and reads at most the size that
fstat reported, refusing more than `limit` bytes. The size is taken from the open file, never from an
earlier stat, so a file swapped between a stat and the open cannot change what is read.

Writing: every file scopeguard writes (reports with -o, the baseline, init's pyproject.toml, fix's
edits, patches, the cache) goes through `write_file`: a temporary file with an unpredictable name
is created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) in the target's folder, written, fsynced and
renamed over the target. A rename replaces a name and never writes into the file a link or a hard
link at that name reaches, so nothing planted at the target or temporary name can direct the
bytes elsewhere. A symlink at the target itself is refused (unless the caller owns the folder and
asks to replace it), and a target named inside one of the `within` folders (the project, the
cache) must still be inside it once symlinks in its folder are resolved. The folder is then opened
one component at a time without following links, and the file is created and renamed relative to
that open folder: a folder swapped for a link after the check makes the write fail, never land
elsewhere.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# Relative opens and renames in an open folder (POSIX): the folder checked is the folder written.
_DIR_FD = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd and bool(_DIRECTORY) and bool(_NOFOLLOW)


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a folder or a socket (or a symlink, with follow=False)."""


class UnsafeTarget(OSError):
    """A write the analysed tree could redirect (a symlink at the target, a folder that resolves
    outside the project or cache): refused. `strerror` says which path and why."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EPERM, message)


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


def write_file(
    target: str | os.PathLike[str],
    data: bytes | str,
    *,
    within: Sequence[str | os.PathLike[str]] = (),
    mode: int | None = None,
    replace_link: bool = False,
    durable: bool = True,
) -> None:
    """Write `data` (str: UTF-8) to `target` in one step, whatever the tree planted around it.

    within: folders (the project root, the cache folder) that a target named inside must stay
    inside once symlinks are resolved; a target outside all of them is written where the caller
    said (an -o path the user chose). mode: the file's exact permissions (default: 0o666 less the
    umask, as open() does). replace_link: a symlink at the target is replaced by the file (the
    link itself, never what it points to); without it such a target is refused. durable: fsync
    the file and the folder before and after the rename (the cache, which authenticates and
    rebuilds what a crash tears, passes False).

    Raises OSError: UnsafeTarget for a write the tree could redirect, the system's error else.
    """
    import secrets

    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    path = os.path.abspath(os.fspath(target))
    folder, name = os.path.split(path)
    if not name or name in (".", ".."):
        raise IsADirectoryError(errno.EISDIR, f"{path}: a folder, not a file name")
    real_folder = _checked_folder(path, folder, within)
    if not _DIR_FD:  # Windows: no relative opens; the checked folder by its real path
        _write_by_path(os.path.join(real_folder, name), payload, mode, replace_link, durable)
        return
    dir_fd = _open_folder(real_folder, path)
    try:
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            info = None
        if info is not None and stat.S_ISLNK(info.st_mode) and not replace_link:
            raise UnsafeTarget(_link_message(path))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
        for _attempt in range(8):
            temp = f".{name[:80]}.{secrets.token_hex(8)}.tmp"
            try:
                fd = os.open(temp, flags, 0o600 if mode is not None else 0o666, dir_fd=dir_fd)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(errno.EEXIST, f"{folder}: cannot create a temporary file")
        try:
            _fill(fd, payload, mode, durable)
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            try:
                os.unlink(temp, dir_fd=dir_fd)
            except OSError:
                pass
            raise
        if durable:
            try:
                os.fsync(dir_fd)
            except OSError:
                pass
    finally:
        os.close(dir_fd)


def _checked_folder(path: str, folder: str, within: Sequence[str | os.PathLike[str]]) -> str:
    """The target folder's real path, refused when a target named inside a `within` folder
    resolves outside it."""
    real = os.path.realpath(folder)
    for root in within:
        lexical_root = os.path.abspath(os.fspath(root))
        if _inside(folder, lexical_root):
            real_root = os.path.realpath(lexical_root)
            if not _inside(real, real_root):
                raise UnsafeTarget(
                    f"{path}: its folder resolves to {real}, outside {lexical_root} (a symlink on the way); "
                    "scopeguard does not follow links out of the project: not written"
                )
    return real


def _open_folder(real_folder: str, path: str) -> int:
    """An open descriptor of `real_folder`, reached one component at a time without following a
    link: if a component was swapped for a symlink since it was resolved, the write is refused."""
    flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
    fd = os.open(os.sep, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for part in real_folder.split(os.sep):
            if not part:
                continue
            try:
                child = os.open(part, flags, dir_fd=fd)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeTarget(f"{path}: a folder on the way changed into a symlink while writing: not written") from None
                raise
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _fill(fd: int, payload: bytes, mode: int | None, durable: bool) -> None:
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode & 0o7777)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_by_path(path: str, payload: bytes, mode: int | None, replace_link: bool, durable: bool) -> None:
    import secrets

    if os.path.islink(path) and not replace_link:
        raise UnsafeTarget(_link_message(path))
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name[:80]}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o600 if mode is not None else 0o666)
    try:
        _fill(fd, payload, None, durable)
        if mode is not None:
            os.chmod(temp, mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _link_message(path: str) -> str:
    try:
        where = f" to {os.readlink(path)!r}"
    except OSError:
        where = ""
    return (f"{path} is a symlink{where}; scopeguard does not write through links: "
            "remove it or choose another name")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def link_outside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str | None:
    """Where `path` really is when a symlink (the file itself, or a folder on the way below
    `root`) takes it outside `root`, else None. For files scopeguard reads by a fixed name
    (packaging, CMake, configuration files): like a linked source file leading outside, such a
    file is not read."""
    real = os.path.realpath(path)
    real_root = os.path.realpath(root)
    return None if _inside(real, real_root) else real
