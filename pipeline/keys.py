"""Opaque keys derived from DICOM identifiers, so that no patient data reaches names or logs."""

from __future__ import annotations

import hashlib


def hash_key(value: str, *, length: int = 16, salt: str = "") -> str:
    """Return a stable, opaque hex key for an identifier (a UID or a PatientID).

    Parameters
    ----------
    value
        The identifier, e.g. a ``SeriesInstanceUID``.
    length
        Number of hex characters kept (16 gives 64 bits; collisions are negligible per study).
    salt
        Optional project secret; with one, keys cannot be recomputed from known identifiers.

    Examples
    --------
    >>> hash_key("1.2.3") == hash_key("1.2.3")
    True
    >>> len(hash_key("1.2.3", length=8))
    8
    """
    digest = hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()
    return digest[:length]
