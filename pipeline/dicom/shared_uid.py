"""Files that share a SOPInstanceUID: what ``inspect`` notes and ``convert`` does.

A SOPInstanceUID names one image (PS3.3 C.12.1.1.1), but merged exports and edited copies
reuse them. ``convert`` names outputs by the UID, so two files with one UID would write the
same names: a byte-identical copy is skipped as a duplicate, and files with different
contents are named by UID and file (:data:`SHARED_UID_NOTE`). ``inspect`` says the same of
the same files (:func:`note_shared_uids`), so that the two agree.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from pipeline.dicom.files import escape_name
from pipeline.dicom.header import Instance
from pipeline.keys import hash_key

#: The note of a file named by UID and file because another file shares its SOPInstanceUID.
SHARED_UID_NOTE = "SOPInstanceUID shared with another file: output named by UID and file"


def file_digest(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def shared_instance_key(instance_key: str, source: str) -> str:
    """The ``instance_key`` of a file whose SOPInstanceUID another file shares.

    Made from the UID's own key (``hash_key(uid)``) and the file's escaped relative name
    ``source``, as both per-instance outputs and a per-series ``sources.csv`` give it.
    """
    return hash_key(f"{instance_key}\0{source}")


def duplicate_note(first: str) -> str:
    """The reason a byte-identical copy of ``first`` (an escaped relative name) is skipped."""
    return f"duplicate of {first} (the same file): skipped"


def note_shared_uids(instances: Iterable[Instance], root: Path) -> list[Instance]:
    """``instances`` with the notes ``convert`` gives files that share a SOPInstanceUID.

    Among the files with one SOPInstanceUID (in any series), sorted by relative path, a
    byte-identical copy of an earlier one gets ``duplicate of <first> (the same file):
    skipped``; when different contents remain, each of them gets :data:`SHARED_UID_NOTE`.
    Only files that share a UID are read in full (to compare their bytes).
    """
    found = list(instances)
    by_uid: dict[str, list[int]] = defaultdict(list)
    for k, inst in enumerate(found):
        by_uid[inst.sop_uid].append(k)
    for members in by_uid.values():
        if len(members) < 2:
            continue
        first: dict[str, int] = {}
        notes: dict[int, str] = {}
        for k in sorted(members, key=lambda k: found[k].path):
            digest = file_digest(root / found[k].path)
            if digest in first:
                notes[k] = duplicate_note(escape_name(found[first[digest]].path))
            else:
                first[digest] = k
        if len(first) > 1:
            notes.update(dict.fromkeys(first.values(), SHARED_UID_NOTE))
        for k, note in notes.items():
            found[k] = replace(found[k], notes=(*found[k].notes, note))
    return found
