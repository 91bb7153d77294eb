"""Synthetic DICOM studies with a learnable signal, for tests, the demo and benchmarks.

``make_phantom`` builds arrays in physical units (pure NumPy); ``write_study`` turns a whole
multi-patient study into DICOM files with ground truth beside them.
"""

from __future__ import annotations

from pipeline.synth.phantoms import CLASS_NAMES, MASK_CLASSES, Phantom, make_phantom
from pipeline.synth.study import StudySpec, study_complete, write_study

__all__ = [
    "CLASS_NAMES",
    "MASK_CLASSES",
    "Phantom",
    "StudySpec",
    "make_phantom",
    "study_complete",
    "write_study",
]
