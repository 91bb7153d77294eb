"""Stage classes, importable by name: ``from pipeline.stages import ZScore, RandomFlip``.

Importing this package registers every stage in :data:`pipeline.registry.STAGES`.
Each family lives in its own module; the pure operations they call are in ``pipeline.ops``.
"""

from __future__ import annotations

from pipeline.stage import Pipeline, Stage
from pipeline.stages.augment import (
    RandomAffine,
    RandomCrop,
    RandomElastic,
    RandomElasticGrid,
    RandomFlip,
    RandomRotate90,
)
from pipeline.stages.augment_intensity import (
    RandomBlur,
    RandomGamma,
    RandomGaussianNoise,
    RandomScaleShift,
)
from pipeline.stages.basic import Cast, Identity
from pipeline.stages.dicom import Window
from pipeline.stages.features import PCA
from pipeline.stages.filters import (
    CLAHE,
    GaussianSmooth,
    MedianFilter,
    NonLocalMeans,
    TotalVariation,
)
from pipeline.stages.geometry import CropForeground, CropOrPad, FitDepth, Resample, Resize
from pipeline.stages.intensity import (
    CenterIntensity,
    ClipIntensity,
    RescaleIntensity,
    ScalePercentiles,
    ZScore,
)
from pipeline.stages.monai_adapter import MonaiTransform

__all__ = [
    "CLAHE",
    "PCA",
    "Cast",
    "CenterIntensity",
    "ClipIntensity",
    "CropForeground",
    "CropOrPad",
    "FitDepth",
    "GaussianSmooth",
    "Identity",
    "MedianFilter",
    "MonaiTransform",
    "NonLocalMeans",
    "Pipeline",
    "RandomAffine",
    "RandomBlur",
    "RandomCrop",
    "RandomElastic",
    "RandomElasticGrid",
    "RandomFlip",
    "RandomGamma",
    "RandomGaussianNoise",
    "RandomRotate90",
    "RandomScaleShift",
    "Resample",
    "RescaleIntensity",
    "Resize",
    "ScalePercentiles",
    "Stage",
    "TotalVariation",
    "Window",
    "ZScore",
]
