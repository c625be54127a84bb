"""Every file the package writes goes through `write_atomic` (SPEC §6).

The contract:

- nothing is written over an existing file unless ``force`` (a `DeriveError`
  otherwise, raised before anything is touched);
- the data goes to a temporary file in the target's own folder and is renamed into
  place with `os.replace`, so the file is whole or absent: an exception, a full disk or
  Ctrl-C while writing leaves neither a partial file nor the temporary file behind;
- missing parent folders are created;
- only regular files are ever replaced: a folder, a device, a FIFO or a socket in the
  way is a one-line `DeriveError`, found with `os.stat` (which never opens it), before
  anything is written;
- a symbolic link is never replaced: a link to a regular file is written through (the
  file it names is replaced atomically, the link stays); a link to anything else, or to
  nothing, is refused;
- ``-`` is standard output (text as UTF-8, bytes as they are);
- operating-system failures (permission denied, a full disk, a parent that is a file)
  become a one-line `DeriveError` naming the path.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "new", "notes.md")
>>> write_atomic(path, "# notes\\n")
>>> open(path).read()
'# notes\\n'
>>> write_atomic(path, "other")
Traceback (most recent call last):
...
derive.errors.DeriveError: ... exists; pass --force to overwrite it
>>> sorted(os.listdir(os.path.dirname(path)))
['notes.md']
"""
import os
import stat
import sys
import tempfile

from ..errors import DeriveError

TEMP_PREFIX = ".derive-"
TEMP_SUFFIX = ".tmp"
STDOUT = "-"
_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))


def is_stdout(path):
    """True for ``-``, the name of standard output."""
    return isinstance(path, str) and path == STDOUT


def kind_of(path):
    """None when nothing is at ``path``; else "file", "folder", or what else it is (a
    FIFO, a device, …). Uses `os.stat`, so a FIFO is never opened."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):   # a parent that is a file: said later
        return "file" if os.path.lexists(path) else None    # a dangling link: replaceable
    except OSError as exc:
        raise DeriveError(f"cannot write {path}: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_writable(path, force=False):
    """Raise `DeriveError` if ``path`` may not be written: an existing file without
    ``force``, a folder, a link to no regular file. Called before any expensive work,
    and again on writing."""
    path = os.fspath(path)
    if not path:
        raise DeriveError("the output file name is empty")
    if is_stdout(path):
        return path
    kind = kind_of(path)
    if kind == "folder":
        raise DeriveError(f"{path} is a folder; give a file name")
    if kind not in (None, "file"):
        raise DeriveError(f"{path} is {kind}, not a regular file; derive replaces only "
                          "regular files")
    if os.path.islink(path) and not os.path.exists(path):
        raise DeriveError(f"{path} is a symbolic link to nothing ({os.readlink(path)}); "
                          "derive writes only through a link to a regular file")
    if kind is not None and not force:
        raise DeriveError(f"{path} exists; pass --force to overwrite it")
    return path


def destination(path):
    """The file that writing ``path`` replaces: ``path`` itself, or the regular file a
    symbolic link at ``path`` names (so that the link stays a link)."""
    return os.path.realpath(path) if os.path.islink(path) else path


def write_stdout(data):
    """``data`` (str or bytes) on standard output; a full disk is a `DeriveError` (a
    closed pipe, `BrokenPipeError`, is left to the command line, which exits quietly)."""
    try:
        if isinstance(data, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise DeriveError(f"cannot write to standard output: {exc.strerror or exc}") from None


def _mode(target):
    """The permissions of the file being replaced, else a new file's (0666 less umask)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode) & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path, data, force=False):
    """Write ``data`` (str, as UTF-8 with ``\\n`` line ends, or bytes) to ``path`` whole
    or not at all; see the module docstring for the contract."""
    path = check_writable(path, force)
    if not isinstance(data, (str, bytes)):
        raise TypeError(f"write_atomic writes str or bytes, got {type(data).__name__}")
    if is_stdout(path):
        write_stdout(data)
        return
    target = destination(path)
    folder = os.path.dirname(os.path.abspath(target))
    above = folder
    while not os.path.exists(above) and os.path.dirname(above) != above:
        above = os.path.dirname(above)
    if not os.path.isdir(above):
        raise DeriveError(f"cannot write {path}: {above} is a file, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise DeriveError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        os.chmod(tmp, _mode(target))       # mkstemp makes 0600
        check_writable(path, force)    # something appeared while we were writing
        if destination(path) != target:        # the link changed while we were writing
            raise DeriveError(f"cannot write {path}: it changed while being written")
        os.replace(tmp, target)
    except BaseException as exc:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise DeriveError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
