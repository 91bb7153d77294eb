"""Scale-out back ends: Dask distributed conversion and DDP training (issue 8).

One ``LocalCluster`` (2 single-threaded worker processes, no dashboard) is shared by the
module; DDP runs use 2 gloo processes on CPU. Every blocking call has a timeout.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest

from pipeline.errors import ConfigError
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key
from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.convert.batch import ConvertOptions, ConvertTask, convert_folder, run_task
from workflows.convert.dask_backend import chunk_size, dask_map, parse_scheduler

# -- Dask ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The address of a 2-worker LocalCluster, shared by this module's Dask tests."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 patients x 2 CT series x 4 slices of 16x16, plus one file that is not DICOM."""
    out = tmp_path_factory.mktemp("dist_study")
    write_study(out, StudySpec(patients=2, size=16, slices=4, seed=11))
    (out / "dicom" / "notes.txt").write_text("not an image\n")
    return out / "dicom"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _files(root: Path) -> dict[str, bytes]:
    """Every output file under ``root`` (manifest, errors and settings aside) by path."""
    skip = {
        "manifest.csv",
        "errors.csv",
        "convert.json",
        ".radpipe-convert.lock",
        ".source-stat.csv",
    }
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in skip
    }


@pytest.mark.parametrize("fmt", ["png", "npy"])
def test_local_cluster_converts_like_the_process_pool(
    cluster: str, scans: Path, tmp_path: Path, fmt: str
) -> None:
    options = ConvertOptions(format=fmt, workers=2)
    pool = convert_folder(scans, tmp_path / "pool", options, progress=False)
    dask = convert_folder(scans, tmp_path / "dask", options, progress=False, scheduler=cluster)
    assert (pool.tasks, pool.converted, pool.outputs) == (17, 16, 16)
    assert (dask.tasks, dask.converted, dask.outputs) == (pool.tasks, 16, 16)
    assert dask.failures == pool.failures
    assert [s for s, _ in dask.failures] == ["notes.txt"]
    assert dask.failures[0][1].startswith("not a DICOM file")
    for name in ("manifest.csv", "errors.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "pool" / name).read_bytes()
    dask_files, pool_files = _files(tmp_path / "dask"), _files(tmp_path / "pool")
    assert len(pool_files) == 16
    assert dask_files == pool_files
    # a rerun on the cluster skips every finished file
    again = convert_folder(scans, tmp_path / "dask", options, progress=False, scheduler=cluster)
    assert (again.skipped, again.converted, again.outputs) == (16, 0, 16)


def _dying_run_task(task: ConvertTask, options: ConvertOptions, victim: str) -> object:
    """``run_task``, except that the worker running ``victim`` the first time dies mid-write.

    The death is real (``os._exit`` in the worker process, no clean-up), after a temporary
    output file has been half written, as a killed machine would leave it.
    """
    marker = Path(task.out_root) / f".killed-{hash_key(victim, length=8)}"
    if task.sources[0] == victim and not marker.exists():
        marker.write_text(str(os.getpid()))
        ds = pydicom.dcmread(Path(task.src_root) / victim, stop_before_pixels=True)
        name = f"{hash_key(ds.SOPInstanceUID)}_000.png"
        final = Path(task.out_root) / hash_key(ds.PatientID) / hash_key(ds.SeriesInstanceUID)
        with atomic_path(final / name) as tmp:
            tmp.write_bytes(b"\x89PNG\r\n\x1a\n half a file")
            os._exit(1)  # the worker process dies here; the nanny starts a new one
    return run_task(task, options)


def test_killed_worker_still_gives_every_output_exactly_once(
    cluster: str, scans: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functools import partial

    import workflows.convert.batch as convert_module

    options = ConvertOptions(format="png", workers=2)
    reference = convert_folder(scans, tmp_path / "ref", options, progress=False)
    sources = sorted({r["source"] for r in _rows(tmp_path / "ref" / "manifest.csv")})
    victim = sources[len(sources) // 2]  # mid-batch: other chunks are done or running
    monkeypatch.setattr(convert_module, "run_task", partial(_dying_run_task, victim=victim))
    result = convert_folder(scans, tmp_path / "out", options, progress=False, scheduler=cluster)

    marker = tmp_path / "out" / f".killed-{hash_key(victim, length=8)}"
    assert marker.exists(), "the victim task never ran"
    assert int(marker.read_text()) != os.getpid()  # it died in a worker, not here
    marker.unlink()
    rows = _rows(tmp_path / "out" / "manifest.csv")
    outputs = [r["output"] for r in rows]
    assert len(outputs) == len(set(outputs)) == reference.outputs == 16
    assert (tmp_path / "out" / "manifest.csv").read_bytes() == (
        tmp_path / "ref" / "manifest.csv"
    ).read_bytes()
    assert [s for s, _ in result.failures] == ["notes.txt"]
    assert _files(tmp_path / "out") == _files(tmp_path / "ref")  # no temporary left over


def _square(x: int) -> int:
    return x * x


def test_dask_map_yields_each_result_once(cluster: str) -> None:
    results = list(dask_map(_square, list(range(37)), cluster, chunk=5))
    assert sorted(results) == [x * x for x in range(37)]
    assert list(dask_map(_square, [], cluster)) == []


def test_scheduler_values_are_checked() -> None:
    assert parse_scheduler("local:3") == 3
    assert parse_scheduler("local") == 2
    assert parse_scheduler("tcp://10.0.0.5:8786") is None
    for bad in ("local:0", "local:x", "localhost:8786x", ""):
        if bad == "localhost:8786x":
            assert parse_scheduler(bad) is None  # an address; reachability is checked later
            continue
        with pytest.raises(ConfigError, match="scheduler"):
            parse_scheduler(bad)
    assert chunk_size(48, 2) == 3
    assert chunk_size(10_000, 2) == 16
    assert chunk_size(3, 4) == 1


def test_cli_convert_with_scheduler(cluster: str, scans: Path, tmp_path: Path) -> None:
    code = main(["convert", str(scans), str(tmp_path / "o"), "--scheduler", cluster, "--quiet"])
    assert code == 1  # notes.txt is not DICOM; the batch goes on and reports it
    assert len(_rows(tmp_path / "o" / "manifest.csv")) == 16
    assert main(["convert", str(scans), str(tmp_path / "p"), "--scheduler", "local:0"]) == 2


# -- DDP ----------------------------------------------------------------------------------
WORKER = Path(__file__).with_name("ddp_worker.py")


def _torchrun(run_dir: Path, epochs: int, *extra: str) -> None:
    """2 gloo ranks on CPU under torchrun (loopback only), killed after 120 s."""
    import subprocess
    import sys

    run_dir.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{WORKER.parent}", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           str(WORKER), str(run_dir), str(epochs), *extra]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]


def _log(run_dir: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def test_ddp_two_gloo_ranks_match_one_process_and_resume_to_the_same_weights(
    tmp_path: Path,
) -> None:
    """2 ranks with the same global batch give one process's weights within 1e-5 (measured:
    <= 2e-7; float rounding of the gradient mean), after 2 epochs and after a resume to 3.
    (One torchrun for both: each costs ~15 s of process start-up on 2 cores.)"""
    import torch

    from tests.workflows import ddp_worker

    def close(weights: dict[str, torch.Tensor], single: dict[str, torch.Tensor]) -> None:
        assert sorted(weights) == sorted(single)
        for name, value in single.items():
            torch.testing.assert_close(weights[name], value, atol=1e-5, rtol=0, msg=name)

    two = ddp_worker.run(tmp_path / "two", epochs=2).state_dict()
    three = ddp_worker.run(tmp_path / "three", epochs=3).state_dict()
    _torchrun(tmp_path / "ddp", 2, "3")  # 2 epochs, then a resume to 3
    close(torch.load(tmp_path / "ddp" / "final_weights-2.pt", weights_only=True), two)
    assert (tmp_path / "ddp" / "rank1-of-2.txt").exists()
    ddp = torch.load(tmp_path / "ddp" / "final_weights-3.pt", weights_only=True)
    close(ddp, three)
    one, log = _log(tmp_path / "three"), _log(tmp_path / "ddp")
    assert [r["epoch"] for r in log] == [1, 2, 3]  # rank 0 alone wrote it, once per epoch
    for a, b in zip(one, log):
        assert b["samples"] == a["samples"] == ddp_worker.N_TRAIN
        # validation counts are summed over the ranks: the same accuracy, not a mean of means
        assert b["val_accuracy"] == a["val_accuracy"]
        assert b["val_loss"] == pytest.approx(a["val_loss"], abs=1e-5)
        assert b["train_loss"] == pytest.approx(a["train_loss"], abs=1e-5)
    last = torch.load(tmp_path / "ddp" / "checkpoints" / "last.pt", weights_only=True)
    assert last["epoch"] == 3
    torch.testing.assert_close(last["model"]["1.weight"], ddp["1.weight"], atol=0, rtol=0)


def test_shard_sampler_deals_the_single_process_order() -> None:
    from workflows.train.ddp import ShardSampler, shard_groups, single_process_order

    data = list(range(7))
    order = single_process_order(7, 42)
    assert sorted(order) == data
    shards = [ShardSampler(data, num_replicas=2, rank=r, shuffle=True, seed=40) for r in (0, 1)]
    for s in shards:
        s.set_epoch(2)
    padded = [*order, order[0]]  # padded to a multiple of 2 by repeating the start
    assert list(shards[0]) == padded[0::2] and list(shards[1]) == padded[1::2]
    groups = ["p1", "p1", "p2", "p3", "p3", "p3", "p2"]
    evals = [ShardSampler(data, num_replicas=2, rank=r, shuffle=False, seed=0, groups=groups)
             for r in (0, 1)]  # fmt: skip
    assert [list(s) for s in evals] == [[3, 4, 5], [0, 1, 2, 6]]  # whole patients, no repeats
    assert shard_groups(["a"], 3) == [[0], [], []]
