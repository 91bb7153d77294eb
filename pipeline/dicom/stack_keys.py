"""The attributes that tell co-located images of one series apart, and where to find them.

Used by :mod:`pipeline.dicom.frames` (each frame's values) and
:mod:`pipeline.dicom.colocated` (which key tells a series' co-located frames apart).
"""

from __future__ import annotations

__all__ = ["COMPONENTS", "FRAME_GROUP_KEYS", "STACK_KEYS"]

#: Attributes that tell co-located images apart (time points, echoes, directions), in order.
STACK_KEYS = (
    "ComplexImageComponent",  # magnitude / phase / real / imaginary (first: never time points)
    "TemporalPositionIdentifier",
    "FrameReferenceTime",  # PET time frames (dcm2niix #577, #184: instance order not time)
    "AcquisitionNumber",
    "EchoNumbers",
    "EchoTime",  # echoes of files without EchoNumbers (Siemens XA classic, dcm2niix #568)
    "TriggerTime",
    "DiffusionBValue",
    "StackID",
)

#: Where an Enhanced object keeps each frame's value of a :data:`STACK_KEYS` attribute
#: (PS3.3 C.7.6.16.2.2 Frame Content, C.8.13.5.2 MR Echo, C.7.6.16.2.7 Cardiac
#: Synchronization, C.8.13.5.9 MR Diffusion): its top level holds none of them per frame.
FRAME_GROUP_KEYS = {
    "TemporalPositionIdentifier": ("FrameContentSequence", "TemporalPositionIndex"),
    "EchoNumbers": ("MREchoSequence", "EffectiveEchoTime"),
    "TriggerTime": ("CardiacSynchronizationSequence", "NominalCardiacTriggerDelayTime"),
    "DiffusionBValue": ("MRDiffusionSequence", "DiffusionBValue"),
    "StackID": ("FrameContentSequence", "StackID"),
    "ComplexImageComponent": ("MRImageFrameTypeSequence", "ComplexImageComponent"),
}

#: ImageType values (after the first two) that name the complex component of an MR image:
#: Siemens ``ORIGINAL\PRIMARY\P\ND``, Philips ``ORIGINAL\PRIMARY\PHASE MAP\P\FFE``.
COMPONENTS = {"M": "MAGNITUDE", "MAGNITUDE": "MAGNITUDE", "P": "PHASE", "PHASE": "PHASE",
               "PHASE MAP": "PHASE", "R": "REAL", "REAL": "REAL", "I": "IMAGINARY",
               "IMAGINARY": "IMAGINARY"}  # fmt: skip
