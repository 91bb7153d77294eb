"""An :class:`~pipeline.dicom.header.Instance` as the scratch store keeps it: its field values.

Pickling the frozen dataclasses themselves writes every field's name with every file and
rebuilds each object through ``copyreg`` (an instance and its frames cost about 2x more to
write and 3x more to read back, per file of a conversion). A record is a plain tuple of the
values in field order, each frame's values a tuple too, pickled; reading it back sets the same
fields, values and types (nothing is converted). An object of a subclass, or with attributes
that are no fields, is pickled whole instead, as before.
"""

from __future__ import annotations

import pickle
from dataclasses import fields

from pipeline.dicom.frames import FrameRef
from pipeline.dicom.header import Instance

_FIELDS = tuple(f.name for f in fields(Instance))
_REF_FIELDS = tuple(f.name for f in fields(FrameRef))
_REFS = _FIELDS.index("frame_refs")


def dump_instance(instance: Instance) -> bytes:
    """``instance`` as bytes for :func:`load_instance` (in this process only: a pickle)."""
    held = instance.__dict__
    refs = instance.frame_refs
    if (
        type(instance) is not Instance
        or len(held) != len(_FIELDS)
        or any(type(r) is not FrameRef or len(r.__dict__) != len(_REF_FIELDS) for r in refs)
    ):
        return pickle.dumps(instance, protocol=pickle.HIGHEST_PROTOCOL)
    values = [held[name] for name in _FIELDS]
    values[_REFS] = tuple(tuple([r.__dict__[name] for name in _REF_FIELDS]) for r in refs)
    return pickle.dumps(tuple(values), protocol=pickle.HIGHEST_PROTOCOL)


def load_instance(blob: bytes) -> Instance:
    """The :class:`Instance` :func:`dump_instance` wrote (this run's own bytes)."""
    found = pickle.loads(blob)
    if not isinstance(found, tuple):
        return found  # pickled whole (dump_instance)
    refs = []
    for values in found[_REFS]:
        ref = object.__new__(FrameRef)
        ref.__dict__.update(zip(_REF_FIELDS, values))
        refs.append(ref)
    instance = object.__new__(Instance)
    instance.__dict__.update(zip(_FIELDS, found))
    instance.__dict__["frame_refs"] = tuple(refs)
    return instance


__all__ = ["dump_instance", "load_instance"]
