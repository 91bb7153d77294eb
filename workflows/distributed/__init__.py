"""Scale-out back ends: Dask distributed for batch work, ``torch.distributed`` for training.

Import the submodules directly (:mod:`workflows.distributed.dask_backend`,
:mod:`workflows.distributed.ddp`); this package imports neither Dask nor torch.
"""

from __future__ import annotations
