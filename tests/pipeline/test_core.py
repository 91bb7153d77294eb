from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.errors import ConfigError, StageError
from pipeline.io_atomic import atomic_open, atomic_path, atomic_write_text
from pipeline.keys import hash_key
from pipeline.registry import STAGES, Registry
from pipeline.sample import Sample
from pipeline.stage import Pipeline, Stage
from pipeline.stages import Cast, Identity
from tests.conftest import make_sample


class _Center(Stage):
    """A learning stage used only here: subtracts the training mean."""

    kind = "intensity"
    needs_fit = True

    def __init__(self, *, offset: float = 0.0) -> None:
        self.offset = offset

    def fit(self, samples: Any) -> _Center:
        self.mean_ = float(np.mean([s.image.mean() for s in samples]))
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.replace(image=sample.image - self.mean_ + self.offset)


class _Boom(Stage):
    def __init__(self) -> None:
        pass

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        raise ValueError("kaput")


def test_sample_checks_shapes() -> None:
    with pytest.raises(ValueError, match=r"Expected image of shape \(C, H, W\)"):
        Sample(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="Expected mask of spatial shape"):
        Sample(np.zeros((1, 4, 4)), mask=np.zeros((3, 4), np.uint8))


def test_sample_replace_copies_meta() -> None:
    s = Sample(np.zeros((1, 2, 2)), meta={"id": "x"})
    t = s.replace(label=3)
    t.meta["id"] = "y"
    assert (s.meta["id"], t.label, s.label) == ("x", 3, None)


def test_with_applied_records_params() -> None:
    s = Sample(np.zeros((1, 2, 2))).with_applied("RandomFlip", {"axes": [1]})
    assert s.meta["applied"] == [{"stage": "RandomFlip", "axes": [1]}]


def test_registry_unknown_name_lists_choices() -> None:
    reg: Registry[type] = Registry("widget")
    reg.register("a")(Identity)
    with pytest.raises(ConfigError, match=r"Unknown widget type 'b'; choose one of: a\."):
        reg.get("b")
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a")(Cast)


def test_a_saved_pipeline_loads_in_a_fresh_interpreter_without_importing_the_stages(
    tmp_path: Path,
) -> None:
    """``Pipeline.load`` in a script that imports only ``pipeline.stage`` (as the README's
    ensemble example does): the built-in stage types are registered on first lookup, not
    "Unknown stage type 'z_score'"."""
    import subprocess
    import sys

    Pipeline.from_config([{"type": "z_score", "mode": "image"}]).save(tmp_path / "stages")
    code = (
        f"from pipeline.stage import Pipeline\nprint(Pipeline.load({str(tmp_path / 'stages')!r}))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "Pipeline([('z_score_0', ZScore(mode='image', channel_wise=True))])"
    )


def test_stage_params_round_trip() -> None:
    stage = Cast(dtype="float64")
    assert stage.get_params() == {"dtype": "float64"}
    assert repr(stage) == "Cast(dtype='float64')"
    assert STAGES.build(stage.to_config()).get_params() == {"dtype": "float64"}


def test_stage_error_names_stage_and_input() -> None:
    with pytest.raises(StageError, match="_Boom failed on sample0: kaput") as info:
        _Boom()(make_sample(0))
    assert isinstance(info.value.__cause__, ValueError)


def test_pipeline_error_names_step() -> None:
    pipe = Pipeline([("first", Identity()), ("boom", _Boom())])
    with pytest.raises(StageError, match="boom failed on sample0"):
        pipe(make_sample(0))


def test_unfitted_stage_refuses() -> None:
    with pytest.raises(StageError, match="not fitted"):
        _Center()(make_sample(0))


def test_pipeline_fits_in_order_and_slices() -> None:
    samples = [make_sample(i) for i in range(3)]
    pipe = Pipeline([("a", _Center(offset=10.0)), ("b", _Center())]).fit(samples)
    a, b = pipe.named_steps["a"], pipe.named_steps["b"]
    expected_a = np.mean([s.image.mean() for s in samples])
    assert a.mean_ == pytest.approx(expected_a, rel=1e-6)
    # b was fitted on a's output, whose mean is exactly the offset.
    assert b.mean_ == pytest.approx(10.0, abs=1e-3)
    out = pipe(samples[0])
    np.testing.assert_allclose(
        out.image, samples[0].image - expected_a + 10 - b.mean_, rtol=1e-5, atol=1e-3
    )
    assert len(pipe[:1]) == 1 and pipe["b"] is b and pipe[0] is a


def test_pipeline_rejects_duplicate_names() -> None:
    with pytest.raises(ValueError, match="unique"):
        Pipeline([("x", Identity()), ("x", Identity())])


def test_pipeline_save_load_without_pickle(tmp_path: Path) -> None:
    STAGES.register("_test_center")(_Center)
    try:
        samples = [make_sample(i) for i in range(2)]
        pipe = Pipeline([("c", _Center(offset=1.5)), ("cast", Cast())]).fit(samples)
        pipe.save(tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz", "pipeline.json"]
        with np.load(tmp_path / "c.npz", allow_pickle=False) as data:
            assert float(data["mean_"]) == pytest.approx(pipe["c"].mean_)  # type: ignore[attr-defined]
        loaded = Pipeline.load(tmp_path)
        assert repr(loaded) == repr(pipe)
        np.testing.assert_array_equal(loaded(samples[1]).image, pipe(samples[1]).image)
    finally:
        STAGES._items.pop("_test_center")


def test_hash_key_is_stable_and_opaque() -> None:
    assert hash_key("1.2.840.1") == hash_key("1.2.840.1")
    assert hash_key("1.2.840.1") != hash_key("1.2.840.2")
    assert hash_key("x", salt="a") != hash_key("x")
    assert "1.2.840" not in hash_key("1.2.840.1")


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
    atomic_write_text(target, "done")
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_atomic_open_keeps_the_old_file_on_failure_and_uses_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "a" / "out.npy"
    with atomic_open(target) as fh:
        fh.write(b"first")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write(b"partial")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"first" and [p.name for p in target.parent.iterdir()] == [
        "out.npy"
    ]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_atomic_temporaries_are_exclusive_named_for_cleanup_and_survive_a_removed_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fnmatch
    import itertools
    import shutil

    from pipeline import io_atomic

    with atomic_path(tmp_path / "v" / "x.nii.gz") as tmp:
        # the pattern a new convert run removes stale temporaries by; the suffix kept
        assert fnmatch.fnmatch(tmp.name, ".*.tmp*") and tmp.name.endswith(".tmp.nii.gz")
        tmp.write_bytes(b"nifti")
    assert (tmp_path / "v" / "x.nii.gz").read_bytes() == b"nifti"

    # a name already taken (here by a link to a file outside) is never written through
    monkeypatch.setattr(io_atomic, "_COUNTER", itertools.count(7))
    monkeypatch.setattr(io_atomic.secrets, "token_hex", lambda n: "abcdef")
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    (tmp_path / "v" / f".y.{os.getpid()}-7-abcdef.tmp.npy").symlink_to(victim)
    with atomic_open(tmp_path / "v" / "y.npy") as fh:
        fh.write(b"new")
    assert victim.read_bytes() == b"keep" and (tmp_path / "v" / "y.npy").read_bytes() == b"new"

    shutil.rmtree(tmp_path / "v")  # the folder was seen before: it is made again
    with atomic_open(tmp_path / "v" / "z.npy") as fh:
        fh.write(b"z")
    assert (tmp_path / "v" / "z.npy").read_bytes() == b"z"


def test_two_writers_of_one_file_and_a_stale_temporary_do_not_collide(tmp_path: Path) -> None:
    """Mutation: a temporary named after the target alone (no process id, counter or random
    part): a second writer of the same output (two processes converting one series) or the
    temporary a killed run left behind made every later write of that file fail."""
    target = tmp_path / "x.npy"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second
        first.write_bytes(b"a")
        second.write_bytes(b"b")
    assert target.read_bytes() == b"a"  # the outer block ends last: its rename wins
    (tmp_path / ".x.tmp.npy").write_bytes(b"left by a killed run")
    atomic_write_text(target, "c")
    assert target.read_text() == "c"
