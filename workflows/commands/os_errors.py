"""An ``OSError`` of the machine (a full disk, a read-only or forbidden output folder) or of
an output path given wrong, said in one line naming the file: for :func:`workflows.cli.main`
and for ``radpipe run``, which adds how to resume the run it stopped."""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = ["ENVIRONMENT_ERRORS", "PATH_ERRORS", "os_error_words"]

#: OSErrors of the machine, not of radpipe or of one input file: said in one line (which
#: file, why), never as a traceback.
ENVIRONMENT_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
#: OSErrors of an output path given wrong (a file where a folder must be, or a folder where
#: a file must be: `convert SRC existing.dcm`, `inspect --index FOLDER`): a usage error
PATH_ERRORS = {errno.EEXIST, errno.EISDIR, errno.ENOTDIR}


def os_error_words(err: BaseException) -> str | None:
    """``FILE: REASON; ADVICE`` for an ``OSError`` of :data:`ENVIRONMENT_ERRORS` or
    :data:`PATH_ERRORS` (the file relative to the working directory when below it), else
    ``None`` (a bug's traceback is kept)."""
    if not isinstance(err, OSError) or err.errno not in ENVIRONMENT_ERRORS | PATH_ERRORS:
        return None
    from workflows.run.paths import shown  # relative below the working directory

    named = err.filename2 or err.filename  # a rename names the target second
    where = f"{shown(Path(named))}: " if named else ""
    full = err.errno in (errno.ENOSPC, errno.EDQUOT)
    hint = "make room (or choose another output folder)" if full else (
        "choose another output folder (or allow writing to it)")  # fmt: skip
    hint = {errno.EEXIST: "it is a file, not a folder: give a folder as the output",
            errno.EISDIR: "it is a folder: give a file name",
            errno.ENOTDIR: "a file stands in the path: give a folder as the output",
            }.get(err.errno or 0, hint)  # fmt: skip
    return f"{where}{err.strerror or err}; {hint}"
