"""One 2-D image of a series with its geometry and the values that tell images apart.

:class:`FrameRef` is what :func:`pipeline.dicom.frames.frame_refs` makes of each frame (or
mosaic tile) of a file, read from its header; :mod:`pipeline.dicom.assemble` plans volumes
from these alone. Kept apart from the readers in :mod:`pipeline.dicom.frames` (which
re-exports it) so that neither outgrows a module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["HALF_RESCALE", "LUT_RESCALE", "FrameRef"]


@dataclass(frozen=True)
class FrameRef:
    """One 2-D image of a series: ``frame`` is the frame (or mosaic tile) index in ``source``.

    ``position``/``orientation``/``pixel_spacing`` are ImagePositionPatient (LPS mm),
    ImageOrientationPatient and PixelSpacing (row, column; mm) of this frame; ``time`` is
    AcquisitionTime/ContentTime in seconds; ``mosaic`` the number of tiles of a demosaiced file
    (0 otherwise); ``refusal`` a reason this file cannot become part of a volume;
    ``series_number`` the SeriesNumber (frames of one SeriesInstanceUID with different
    SeriesNumbers are kept apart, as dcm2niix does); ``image_kind`` the first two values of
    ImageType (``ORIGINAL`` and ``PRIMARY`` joined by a backslash; empty when absent), which
    keeps derived images (reformats, subtractions, screen captures) out of the acquired stack;
    ``subject`` the PatientID (several: refused); ``study`` the StudyInstanceUID (several:
    noted); ``frame_of_reference`` likewise; ``kernel`` the ConvolutionKernel (one volume each);
    ``note`` what its placement rests on when the series should say so; ``frame_time`` the
    ms since the file's previous frame of a cine (:mod:`pipeline.dicom.cine`); ``modality``
    the Modality (0008,0060), upper case (one volume each); ``slice_location`` the
    SliceLocation (0020,1041) of a classic image (mm; only to tell unplaced slices), and
    ``in_stack`` an Enhanced frame's InStackPositionNumber (0020,9057) likewise;
    ``rescale`` the frame's (RescaleSlope, RescaleIntercept), ``None`` when it has neither
    nor a Modality LUT Sequence (:data:`LUT_RESCALE` for a LUT, :data:`HALF_RESCALE` for one
    of the pair alone; identity where the modality LUT is not applied, XA/XRF), only to find
    a series whose images do not all have theirs;
    ``unit`` the modality values' unit (:func:`pipeline.dicom.units.value_unit`); ``lossy``
    its lossy compression history (:func:`pipeline.dicom.lossy.lossy_history`); ``colour``
    whether it has more than one sample per pixel (a screen capture among grey slices);
    ``between`` its SpacingBetweenSlices (0018,0088) in mm, only to say when it disagrees
    with the step between the slices' positions (``slice_step`` falls back on SliceThickness);
    ``counts`` the slices, images and time points its header says there should be
    (:data:`pipeline.dicom.expected_counts.COUNT_KEYS`), to say a shortfall;
    ``place`` the one ImagePositionPatient of a cine's frames (a classic multi-frame file of
    time points at one place, :mod:`pipeline.dicom.frame_stack`; ``position`` stays ``None``);
    ``group_keys`` the stack keys whose ``stack_values`` an Enhanced frame took from a
    functional group attribute of another name (EchoNumbers: its EffectiveEchoTime;
    :func:`pipeline.dicom.stack_keys.group_keywords`), so that they are named by it.
    """

    source: str
    frame: int
    sop_uid: str
    rows: int
    columns: int
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    instance_number: int | None = None
    stack_values: tuple[Any, ...] = ()
    time: float | None = None
    repetition_time: float | None = None
    slice_step: float | None = None
    mosaic: int = 0
    refusal: str = ""
    digest: str = ""
    series_number: int | None = None
    image_kind: str = ""
    subject: str = ""
    study: str = ""
    frame_of_reference: str = ""
    kernel: str = ""
    note: str = ""
    frame_time: float | None = None
    modality: str = ""
    slice_location: float | None = None
    in_stack: int | None = None
    between: float | None = None
    rescale: tuple[float, float] | None = (1.0, 0.0)
    unit: str = ""
    lossy: str = ""
    colour: bool = False
    counts: tuple[int | None, ...] = ()
    group_keys: tuple[str, ...] = ()
    place: tuple[float, float, float] | None = None


#: FrameRef.rescale of a frame with a Modality LUT Sequence (a slope 0 is read as 1, so no
#: rescale reads as this).
LUT_RESCALE = (0.0, 0.0)
#: FrameRef.rescale of a frame with RescaleSlope or RescaleIntercept alone (the other absent or
#: empty): half a mapping, the other read as its default, so its unit is not known either.
HALF_RESCALE = (0.0, 1.0)
