"""Shared fixtures: small synthetic studies, made once per test session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _own_cores_per_worker() -> None:
    """Under pytest-xdist (``make test`` runs two workers), give each worker, and every
    process it starts, its own share of the cores: torch sizes its thread pool by the cores
    a process may use, and two workers' threads on the same two cores run small models many
    times slower. Called before torch is imported, so torch's default follows the share."""
    worker, count = (
        os.environ.get("PYTEST_XDIST_WORKER", ""),
        os.environ.get("PYTEST_XDIST_WORKER_COUNT", ""),
    )
    if not (worker.startswith("gw") and count.isdigit() and hasattr(os, "sched_setaffinity")):
        return
    cores = sorted(os.sched_getaffinity(0))
    if int(count) < 2 or len(cores) < int(count):
        return
    os.sched_setaffinity(0, cores[int(worker[2:]) % int(count) :: int(count)])


_own_cores_per_worker()

import numpy as np  # noqa: E402  (after the cores are set: numpy's BLAS sizes its threads)
import pytest  # noqa: E402

from pipeline.sample import Sample  # noqa: E402
from pipeline.synth import StudySpec, make_phantom, write_study  # noqa: E402

# Keys are HMACs with a project secret (pipeline.keys): the tests (and the processes they
# start) use a secret of their own, never the user's ~/.config/radpipe/secret. It is fixed,
# because keys order patients in splits: a fresh secret per session made split tests flaky.
_SECRET = Path(tempfile.mkdtemp(prefix="radpipe-test-")) / "secret"
_SECRET.write_text("radpipe-test-suite-secret-0123456789abcdef\n")
_SECRET.chmod(0o600)
os.environ["RADPIPE_SECRET_FILE"] = str(_SECRET)


@pytest.fixture(autouse=True)
def _fresh_radpipe_logger() -> Iterator[None]:
    """Every test starts with the ``radpipe`` logger as a new process has it (no handler,
    propagating, level unset) and leaves it so: a command run by an earlier test in the same
    worker set its terminal handler and turned propagation off, so ``caplog`` saw nothing of
    a later test's messages, and a test's result depended on which tests ran before it."""
    import logging

    logger = logging.getLogger("radpipe")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    logger.handlers, logger.propagate = [], True
    logger.setLevel(logging.NOTSET)  # (setLevel, not the attribute: it clears the level cache)
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])


@pytest.fixture(scope="session")
def ct_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 patients x 2 CT series x 8 slices of 32x32, classification labels."""
    out = tmp_path_factory.mktemp("ct_study")
    write_study(out, StudySpec(patients=6, modality="CT", size=32, slices=8))
    return out


@pytest.fixture(scope="session")
def seg_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 patients x 2 MR series x 6 slices of 32x32, with masks."""
    out = tmp_path_factory.mktemp("seg_study")
    write_study(out, StudySpec(patients=4, modality="MR", task="segmentation", size=32, slices=6))
    return out


@pytest.fixture
def one_thread() -> Iterator[None]:
    """torch on one intra-op thread for the test: two busy threads on a shared 2-core machine
    run small models 10-50x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_sample(seed: int = 0, size: int = 32, label: int = 1) -> Sample:
    """A 2-D sample (1, size, size) in HU with a lesion mask."""
    ph = make_phantom(np.random.default_rng(seed), modality="CT", size=size, slices=3, label=label)
    return Sample(
        image=ph.image[1:2].copy(),
        mask=ph.mask[1].copy(),
        label=label,
        meta={"id": f"sample{seed}", "spacing": (1.0, 1.0)},
    )


@pytest.fixture
def sample() -> Sample:
    return make_sample()


def write_nifti(
    path: Path,
    affine: np.ndarray,
    zooms: tuple[float, ...] | None = None,
    shape: tuple[int, ...] = (4, 5, 6),
) -> Path:
    """A float32 NIfTI of zeros placed by ``affine`` (units mm); ``zooms`` rewrites its pixdim
    after the affine, as FastSurfer #36's file had it."""
    import nibabel as nib

    img = nib.Nifti1Image(np.zeros(shape, np.float32), affine)
    if zooms is not None:
        img.header.set_zooms(zooms)
    img.header.set_xyzt_units("mm")
    nib.save(img, path)
    return path
