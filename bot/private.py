"""What stays private: credentials in a repository URL never show in text (`redact`), and the
bot's files (database, data folder, git clone) are readable by the bot's own user only."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
HIDDEN = "***"

# `scheme://userinfo@host`: everything between `://` and the last `@` of the authority (a
# password with a raw `@` in it included), as RFC 3986 section 3.2.1 places it.
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/\s'\"<>]+@")
# `user:password@host` without a scheme, as git quotes a host it could not look up.
_BARE_USERINFO = re.compile(r"(^|[\s'\"(<\[])[^\s/@:'\"<>()]+:[^\s/@'\"<>()]+@(?=[\w\[])")


def redact(text: str) -> str:
    """`text` with the credentials of every URL in it replaced by `***`:
    `https://x-access-token:ghp_abc@host/org/pm.git` becomes `https://***@host/org/pm.git`,
    `https://token@host/...` and `git://user:pass@host/...` alike, and a bare `user:pass@host`
    as git prints it in "unable to look up". Everything else is left as it is."""
    text = _URL_USERINFO.sub(rf"\1{HIDDEN}@", text)
    return _BARE_USERINFO.sub(rf"\1{HIDDEN}@", text)


def credentials_in(url: str | None) -> list[str]:
    """The secret in a URL's userinfo, for a log filter to remove wherever it shows up: the
    password of `user:password@`, or over http(s) the whole of `token@` (the token-only form
    GitHub and GitLab accept); [] without one (`ssh://git@host`: a user name, not a secret)."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/\s]+)@", url or "")
    if not match:
        return []
    user, _, password = match[2].partition(":")
    if password:
        return [password]
    return [user] if match[1].lower() in ("http", "https") else []


def private_dir(path: Path) -> None:
    """Make folder `path` (with its parents) if it is missing, itself mode 0700 whatever the
    umask. A folder that already exists is left as it is (`python -m bot check` names one that
    others can read). Raises OSError when it cannot be made."""
    if path.is_dir():
        return
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)


def private_file(path: Path, create: bool = True) -> None:
    """File `path` readable by its owner only: made empty, mode 0600, if missing (and
    `create`); an existing one that others may read is made 0600. SQLite gives a database's
    `-wal` and `-shm` files the mode of the database itself (os_unix.c, findCreateFileMode),
    so a database made this way before SQLite opens it keeps all three private. Raises
    OSError."""
    if create and not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    if open_to_others(path):
        path.chmod(PRIVATE_FILE)


def open_to_others(path: Path) -> bool:
    """Whether users other than its owner may read, write or enter `path` (any group or other
    permission bit); False if it does not exist (nor can: a parent is a file)."""
    try:
        return bool(path.stat().st_mode & 0o077)
    except (FileNotFoundError, NotADirectoryError):
        return False
