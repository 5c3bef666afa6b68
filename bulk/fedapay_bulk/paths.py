"""What a path the operator named is, in words, when it is not a regular file: one wording for every message."""

from __future__ import annotations

import stat
from pathlib import Path


def file_kind(path: Path) -> str | None:
    """"a folder", "a FIFO (named pipe)", "a device", "a socket", "not a regular file"; None for a regular file or
    nothing there (links followed)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    return ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "not a regular file")
