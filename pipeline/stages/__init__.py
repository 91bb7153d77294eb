"""Stage classes, importable by name: ``from pipeline.stages import ZScore, RandomFlip``.

Importing this package registers every stage in :data:`pipeline.registry.STAGES`.
Each family lives in its own module; the pure operations they call are in ``pipeline.ops``.
"""

from __future__ import annotations

from pipeline.stage import Pipeline, Stage
from pipeline.stages.basic import Cast, Identity

__all__ = ["Cast", "Identity", "Pipeline", "Stage"]
