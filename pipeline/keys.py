"""Opaque keys derived from DICOM identifiers, so that no patient data reaches names or logs.

Keys are keyed hashes (HMAC-SHA256, RFC 2104) with a secret of the project: without the
secret, nobody holding a list of PatientIDs or UIDs can recompute the keys and so re-identify
folders, file names or rows. The same secret always gives the same keys.

The secret is a file of random hex text, created on first use (mode 0600) at:

1. ``$RADPIPE_SECRET_FILE`` when set (one file per project: point each project at its own);
2. else ``$XDG_CONFIG_HOME/radpipe/secret`` (``~/.config/radpipe/secret``).

It lives outside every output folder. Keep it (and back it up) as long as the keys must stay
the same: a new secret gives new keys, and a new conversion (the secret's fingerprint is part
of ``radpipe run``'s conversion cache key). Every process that makes keys for the same
project (conversion workers, Dask workers on other machines) must see the same file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from pipeline.errors import ConfigError

__all__ = [
    "SECRET_ENV", "SecretError", "hash_key", "hash_keys", "key_fingerprint", "project_secret",
    "secret_path",
]  # fmt: skip

SECRET_ENV = "RADPIPE_SECRET_FILE"
_cache: dict[str, bytes] = {}
_by_environment: dict[tuple[str | None, ...], bytes] = {}
_hashes: dict[tuple[bytes, str, int], str] = {}  # recent keys (bounded)


class SecretError(ConfigError, ValueError):
    """The project secret cannot be read or is too short (the message names the file)."""


def secret_path() -> Path:
    """Where the project secret is read from (see the module docstring)."""
    configured = os.environ.get(SECRET_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "radpipe" / "secret"


def project_secret() -> bytes:
    """The project secret, created (64 random hex characters, mode 0600) if missing.

    Two processes creating it at once end with the same secret: it is written to a temporary
    file and linked into place, and the loser reads the winner's.
    """
    where = (os.environ.get(SECRET_ENV), os.environ.get("XDG_CONFIG_HOME"), os.environ.get("HOME"))
    known = _by_environment.get(where)
    if known is not None:  # the same settings as last time: no path work per key
        return known
    value = _read_secret(secret_path())
    _by_environment[where] = value
    return value


def _read_secret(path: Path) -> bytes:
    cached = _cache.get(str(path))
    if cached is not None:
        return cached
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    try:
        value = path.read_text(encoding="ascii").strip().encode()
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
        raise SecretError(f"{path.name}: cannot read the radpipe secret ({reason}); point "
                          f"{SECRET_ENV} at a readable text file") from None  # fmt: skip
    if len(value) < 16:
        raise SecretError(f"{path.name}: the radpipe secret is too short (16 characters or more; "
                          f"fix it or point {SECRET_ENV} at another file).")  # fmt: skip
    _cache[str(path)] = value
    return value


def hash_key(value: str, *, length: int = 16, salt: str = "") -> str:
    """Return a stable, opaque hex key for an identifier (a UID or a PatientID).

    Parameters
    ----------
    value
        The identifier, e.g. a ``SeriesInstanceUID``.
    length
        Number of hex characters kept (16 gives 64 bits; collisions are negligible per study).
    salt
        A secret to use instead of the project secret (:func:`project_secret`).

    Examples
    --------
    >>> hash_key("1.2.3") == hash_key("1.2.3")
    True
    >>> len(hash_key("1.2.3", length=8))
    8
    """
    return _keyed(salt.encode() if salt else project_secret(), value, length)


def hash_keys(values: list[str], *, length: int = 16) -> list[str]:
    """:func:`hash_key` of each value, the project secret looked up once.

    For a file's patient, study, series and instance keys: each lookup of the secret reads
    three environment variables.

    Examples
    --------
    >>> hash_keys(["1.2.3", "4.5"]) == [hash_key("1.2.3"), hash_key("4.5")]
    True
    """
    secret = project_secret()
    return [_keyed(secret, value, length) for value in values]


def _keyed(key: bytes, value: str, length: int) -> str:
    ask = (key, value, length)
    found = _hashes.get(ask)
    if found is None:  # the files of a series share their patient, study and series keys
        found = hmac.digest(key, value.encode(), hashlib.sha256).hex()[:length]
        if len(_hashes) >= 256:
            _hashes.clear()
        _hashes[ask] = found
    return found


def key_fingerprint() -> str:
    """A short fingerprint of the project secret (not the secret): which keys a cache holds."""
    return hash_key("radpipe key fingerprint", length=12)
