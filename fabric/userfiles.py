"""Reading the files an operator gives us: one place, one kind of message.

Every file the command line reads on a user's behalf (inventory, run definitions, catalogs,
device outputs for ``parse`` and ``--from``) is read here: bytes first, then decoded, so a
file that cannot be read or is not text ends in one line naming the path, what was expected
and, for a decoding problem, the offending byte offset: never in a traceback.

``error`` chooses the exception (and so the exit code, :mod:`fabric.errors`): a
:class:`~fabric.errors.UsageError` (exit 2) for what the operator writes (inventory, run
definitions, catalogs), a :class:`~fabric.errors.ParseError` (exit 5) for device output.
Device output is decoded as UTF-8, or as UTF-16 when it starts with a byte order mark (what
Windows terminals and PowerShell's ``>`` save); a UTF-8 byte order mark is dropped.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from fabric.errors import FabricError, UsageError

#: Makes the exception raised for a problem, from its one-line message.
ErrorFactory = Callable[[str], FabricError]

_WHY = {
    errno.ENOENT: "does not exist",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EEXIST: "a part of the path is a file, not a directory",
    errno.ELOOP: "is a symlink loop",
    errno.ENAMETOOLONG: "has a name too long for the file system",
    errno.EACCES: "is not readable (permission denied)",
    errno.EPERM: "is not readable (operation not permitted)",
}


def describe_os_error(exc: OSError | ValueError | RuntimeError) -> str:
    """What is wrong with a path, in words (``is a directory``, ``is a symlink loop`` ...).

    ``ValueError`` is what :mod:`os` raises for a path holding a NUL byte; ``RuntimeError``
    what :meth:`pathlib.Path.resolve` raises for a symlink loop.

    >>> describe_os_error(IsADirectoryError(21, "Is a directory"))
    'is a directory'
    >>> describe_os_error(OSError(36, "File name too long"))
    'has a name too long for the file system'
    >>> describe_os_error(ValueError("embedded null byte"))
    'is not a valid path (embedded null byte)'
    """
    if isinstance(exc, ValueError):
        return f"is not a valid path ({exc})"
    if isinstance(exc, RuntimeError):
        return "is a symlink loop"
    if exc.errno in _WHY:
        return _WHY[exc.errno]
    return f"cannot be read ({exc.strerror or exc})"


def read_bytes(
    path: Path, what: str, *, error: ErrorFactory = UsageError, label: str | None = None
) -> bytes:
    """The bytes of ``path``, a regular file holding ``what`` (e.g. ``a YAML file``).

    Args:
        path: the file.
        what: what the file should be, for the message (``device output``, ``a YAML file``).
        error: makes the exception raised (default :class:`~fabric.errors.UsageError`).
        label: the path as the message shows it (default: ``path`` as given).

    Raises:
        FabricError: from ``error``: one line naming the path, what is wrong and ``what``.
    """
    shown = label or str(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory")
        if not stat.S_ISREG(mode):
            # a FIFO would block the read forever, a device (/dev/zero) never end it
            raise error(
                f"{shown}: is not a regular file (a device, pipe or socket); expected {what}"
            )
        with path.open("rb") as fh:
            return fh.read()
    except (OSError, ValueError, RuntimeError) as exc:
        raise error(f"{shown}: {describe_os_error(exc)}; expected {what}") from None


def exists(path: Path) -> bool:
    """Whether something is at ``path`` (a broken or looping symlink counts); never raises.

    A name too long or holding a NUL byte is not there either: reading it reports why.
    """
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def decode_utf8(data: bytes, label: str, what: str, *, error: ErrorFactory = UsageError) -> str:
    r"""``data`` as UTF-8 text (a leading byte order mark dropped).

    Raises:
        FabricError: from ``error``: the file is not UTF-8; the message names the file, the
            byte offset of the first invalid byte and the byte itself.

    >>> decode_utf8(b"\xef\xbb\xbfkey: value", "f.yaml", "YAML")
    'key: value'
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(_not_text(label, what, "UTF-8", data, exc)) from None


def decode_device_output(data: bytes, label: str, *, error: ErrorFactory = UsageError) -> str:
    r"""Device output as text: UTF-8, or UTF-16 when it starts with a byte order mark.

    >>> decode_device_output("VRF: default\n".encode("utf-16"), "out.txt")
    'VRF: default\n'

    Raises:
        FabricError: from ``error``: the bytes are neither (offset and byte named).
    """
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                # offsets in the message count from the start of the file, BOM included
                exc.start += len(bom)
                raise error(_not_text(label, "device output", codec.upper(), data, exc)) from None
    return decode_utf8(data, label, "device output", error=error)


def _not_text(label: str, what: str, codec: str, data: bytes, exc: UnicodeDecodeError) -> str:
    offset = exc.start
    byte = data[offset : offset + 1].hex() if offset < len(data) else "end of file"
    shown = f"0x{byte}" if offset < len(data) else byte
    return f"{label}: not {codec} text: invalid byte {shown} at offset {offset}; expected {what}"


def read_text(
    path: Path, what: str, *, error: ErrorFactory = UsageError, label: str | None = None
) -> str:
    """:func:`read_bytes` then :func:`decode_utf8`: an operator's file (YAML, a template)."""
    shown = label or str(path)
    return decode_utf8(read_bytes(path, what, error=error, label=shown), shown, what, error=error)


def read_device_output(
    path: Path, *, error: ErrorFactory = UsageError, label: str | None = None
) -> str:
    """:func:`read_bytes` then :func:`decode_device_output`: a saved CLI output."""
    shown = label or str(path)
    data = read_bytes(path, "device output (a text file)", error=error, label=shown)
    return decode_device_output(data, shown, error=error)


def write_output(path: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``path`` (creating its folders): a file the operator asked for.

    Raises:
        UsageError: the folder cannot be made or the file written (a file where a folder
            should be, no permission, no space ...): one line naming the path and ``what``.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except (OSError, ValueError, RuntimeError) as exc:
        why = describe_os_error(exc).replace("cannot be read", "cannot be written")
        raise UsageError(f"{path}: {why}; cannot write {what} there") from None


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing, the folder itself with mode 0700.

    For folders that will hold keys, credentials or exact configurations. An existing folder
    is left as it is (it may be the operator's own, such as ``/tmp``). Returns ``path``.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
