"""Read and rewrite manifest files safely: regular files only, atomic, owner and mode kept.

``--patch FILE --in-place`` follows a symlink and rewrites its target (the link stays a link); it
refuses what an atomic rename cannot rewrite faithfully: non-regular files (``/dev/stdin``, FIFOs,
devices), read-only files, and files with several hard links (a rename would split them).
"""

from __future__ import annotations

import os
import stat
import tempfile

from sessionkit.ingress._validate import AffinityConfigError

MAX_BYTES = 16 * 1024 * 1024


def _regular(path: str, option: str) -> os.stat_result:
    try:
        st = os.stat(path)  # follows symlinks
    except OSError as exc:
        raise AffinityConfigError(f"{option} {path}: cannot read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise AffinityConfigError(
            f"{option} {path}: not a regular file (a pipe, device or directory); save the manifest "
            "to a file first"
        )
    return st


def read_text(path: str, option: str) -> str:
    """Read a regular file of at most 16 MiB as UTF-8; any failure is one usage error."""
    st = _regular(path, option)
    if st.st_size > MAX_BYTES:
        raise AffinityConfigError(f"{option} {path}: larger than 16 MiB; not a manifest")
    try:
        with open(path, encoding="utf-8", newline="") as handle:  # keep CRLF as it is
            return handle.read(MAX_BYTES + 1)
    except UnicodeDecodeError as exc:
        raise AffinityConfigError(f"{option} {path}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise AffinityConfigError(f"{option} {path}: cannot read: {exc.strerror or exc}") from exc


def check_rewritable(path: str) -> str:
    """The real path ``--in-place`` will replace; raise when it cannot be replaced faithfully."""
    st = _regular(path, "--patch")
    real = os.path.realpath(path)
    if not st.st_mode & stat.S_IWUSR:
        raise AffinityConfigError(
            f"--patch {path}: the file is read-only; refusing to overwrite it (make it writable, "
            "or drop --in-place and redirect the output)"
        )
    if st.st_nlink > 1:
        raise AffinityConfigError(
            f"--patch {path}: the file has {st.st_nlink} hard links and an atomic rewrite would "
            "split them; drop --in-place and write the output over it yourself"
        )
    return real


def atomic_write(path: str, text: str) -> None:
    """Replace ``path`` (a symlink's target) with ``text``: temp file beside it, same owner and mode.

    Raises :class:`AffinityConfigError` (and leaves the file as it was) when the target cannot be
    rewritten faithfully.
    """
    real = check_rewritable(path)
    st = os.stat(real)
    directory = os.path.dirname(real)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.", suffix=".tmp",
                                   dir=directory)
    except OSError as exc:
        raise AffinityConfigError(
            f"--patch {path}: cannot create a temporary file in {directory}: "
            f"{exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_owner(tmp, st, path)
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, real)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _keep_owner(tmp: str, st: os.stat_result, path: str) -> None:
    mine = os.stat(tmp)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid):
        return
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except OSError as exc:
        raise AffinityConfigError(
            f"--patch {path}: cannot keep the file's owner ({st.st_uid}:{st.st_gid}); refusing "
            "to rewrite it; drop --in-place and redirect the output") from exc
