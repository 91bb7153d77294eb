"""Learning benchmark: shipped configs on real medical images, run as a user would.

For each task the data are wrapped as a DICOM archive (:mod:`benchmarks.learn_data`), a
shipped config is adapted (data paths, class names, image size, epochs), trained and
evaluated with ``radpipe run``, applied to the held-out test archive with ``radpipe predict``,
and scored here, independently of radpipe's metrics: ROC AUC with scikit-learn, Dice with
numpy on the masks at the original image size. Wall time and peak resident memory (of the
``radpipe`` process, from ``wait4``) are measured per command; the table also gives the
device each run trained on (its ``train_done.json``: ``cuda`` where a GPU is present) and the
summed time of its epochs there (``log.jsonl`` ``time_s``: the GPU time of training on a GPU).

- ``breast``: BreastMNIST 28x28 (official train and val for the run, split as MedMNIST splits
  them with ``split.column``, so the run has no internal test set; official test for predict);
  outside radpipe, on the official train split: a bare PyTorch MLP of the shipped MLP's size
  (no augmentation) and logistic regression.
- ``hc18``: HC18 fetal head ultrasound, resized to ``--size`` (128: 128x128; ``128x192``: height
  128, width 192), split by fetus (NNN);
  predicted masks post-processed with ``largest_component`` and ``fill_holes`` (one head per
  image; ``--set 'postprocess=[]'`` for the raw argmax); a config that already keeps the
  largest component (``us_fetal_head_unet``, which also fits the ellipse) keeps its own steps.

Usage (not a test; needs ``/work/shared/data`` or ``--data``)::

    python benchmarks/learn.py breast hc18 --work /tmp/learn
    python benchmarks/learn.py hc18 --only mr_segment_reseg --epochs 10   # reduced
    python benchmarks/learn.py breast --only xray_classify --seeds 0 1 2 \
        --set train.average_epochs=5 'augment=[]'                        # a variant, 3 seeds

Each run gets ``compute.threads`` = ``$OMP_NUM_THREADS`` (default 1) torch threads.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.learn_data import Archive, breast_archives, hc18_archives

ROOT = Path(__file__).resolve().parents[1]
RADPIPE = [sys.executable, "-m", "workflows.cli"]
BREAST_CONFIGS = [
    "xray_classify",
    "xray_classify_mixer",
    "xray_classify_cnn",
    "xray_classify_resnet",
]
HC18_CONFIGS = [
    "mr_segment_mlp",
    "mr_segment_mixer",
    "mr_segment_recurrent",
    "mr_segment_reseg",
    "mr_segment_unet",
    "us_fetal_head_unet",
]
FAMILY = {"mlp_classifier": "fully connected", "mixer_classifier": "fully connected (Mixer)",
          "cnn_classifier": "CNN", "resnet_classifier": "CNN (ResNet)",
          "mlp_segmenter": "fully connected",
          "mixer_unet": "fully connected (Mixer U-Net)", "reseg_unet": "recurrent (ReSeg U-Net)",
          "renet_segmenter": "recurrent (ReNet)", "unet": "CNN (MONAI BasicUNet)"}  # fmt: skip


def timed(cmd: list[str], log: Path) -> tuple[int, float, float]:
    """Run ``cmd``; return exit code, wall seconds and peak RSS (MiB) of the child."""
    t0 = time.perf_counter()
    # One thread unless told otherwise: on a shared 2-core machine two spinning threads ran
    # these small models several times slower.
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": os.environ.get(
        "OMP_NUM_THREADS", "1")}  # fmt: skip
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - t0, usage.ru_maxrss / 1024


def parse_size(text: str) -> tuple[int, int]:
    """``--size``: ``"128"`` -> ``(128, 128)``; ``"128x192"`` -> ``(128, 192)`` (height x width)."""
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"size {text!r} is not N or HxW (e.g. 128x192)")
    h, w = (int(parts[0]), int(parts[-1]))
    return h, w


def adapt(name: str, task: str, archive: Archive, out: Path, args: argparse.Namespace) -> Path:
    """The shipped config ``name`` with this archive's paths and sizes filled in."""
    config = yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text())
    data = {"source": str(archive.dicom), "unit": "image"}
    if task == "breast":
        data |= {"labels": str(archive.labels)}
        # MedMNIST's own train/val (the bare loop's training images); until 2026-12-01 the run
        # split the 624 itself (test 0.05, val 0.15) and trained on ~500
        config["split"] = {"column": "official"}
    else:
        data |= {"masks": str(archive.masks), "class_names": ["background", "head"]}
        config["split"] = {"test": 0.1, "val": 0.15, "stratify": False}
        for stage in config["preprocess"]:
            if stage["type"] == "resize":
                stage["shape"] = list(args.size)
        # One head per image: its largest component is the head (the MR configs, made for a
        # paired organ, only fill holes; a config made for one object keeps its own steps).
        own = [step["type"] for step in config.get("postprocess") or []]
        if "largest_component" not in own:
            config["postprocess"] = [{"type": "largest_component"}, {"type": "fill_holes"}]
    config["data"] = data
    config["convert"] = {"format": "npy", "window": "none", "workers": 1}
    config["output"] = str(out / "runs")
    config["report"] = {"enabled": False}
    # One torch thread per run (compute.threads; radpipe's default would take every core).
    config["compute"] = {"threads": int(os.environ.get("OMP_NUM_THREADS", "1"))}
    if args.epochs:
        config["train"]["epochs"] = args.epochs
        if config["train"].get("min_epochs", 0) > args.epochs:
            config["train"]["min_epochs"] = args.epochs
    for item in getattr(args, "set", None) or []:  # --set train.average_epochs=5, augment=[]
        key, value = item.split("=", 1)
        *parents, leaf = key.split(".")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    if getattr(args, "seed", None) is not None:
        config["seed"] = args.seed
    path = out / f"{task}-{name}{_tag(args)}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _tag(args: argparse.Namespace) -> str:
    """A file-name suffix naming this variant's seed and ``--set`` overrides."""
    parts = [f"s{args.seed}"] if getattr(args, "seed", None) is not None else []
    for x in getattr(args, "set", None) or []:  # long overrides (a list of stages) by digest
        name = re.sub(r"[^\w.=,+-]", "_", x)
        parts.append(name if len(name) <= 60 else hashlib.sha256(x.encode()).hexdigest()[:12])
    return "".join(f"-{p}" for p in parts)


def newest_run(runs: Path, name: str) -> Path:
    return max(runs.glob(f"{name}-*"), key=lambda p: p.stat().st_mtime)


def score(task: str, pred_dir: Path, truth: dict[str, object]) -> float:
    """Test ROC AUC (scikit-learn) or mean per-image Dice (numpy) from predict's output."""
    with (pred_dir / "predictions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    if task == "breast":
        from sklearn.metrics import roc_auc_score

        y = [truth[r["series_key"]] for r in rows]
        return float(roc_auc_score(y, [float(r["prob_normal_benign"]) for r in rows]))
    dices = []
    for r in rows:
        pred = np.asarray(Image.open(pred_dir / r["mask"])) > 0
        gt = np.asarray(Image.open(str(truth[r["series_key"]]))) > 0
        dices.append(2 * (pred & gt).sum() / max(pred.sum() + gt.sum(), 1))
    if len(dices) != len(truth):
        raise RuntimeError(f"predict wrote {len(dices)} masks for {len(truth)} test images.")
    return float(np.mean(dices))


def run_config(name: str, task: str, dev: Archive, test: Archive, out: Path,
               args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    path = adapt(name, task, dev, out, args)
    stem = path.stem
    rc, wall, peak = timed([*RADPIPE, "run", str(path), "--quiet"], out / f"{stem}.log")
    if rc:
        raise RuntimeError(f"radpipe run {path.name} failed; see {out / f'{stem}.log'}")
    run = newest_run(out / "runs", yaml.safe_load(path.read_text())["name"])
    pred = out / f"pred-{stem}"
    rc, pwall, ppeak = timed([*RADPIPE, "predict", str(run), str(test.dicom), "--out", str(pred),
                              "--quiet"], out / f"{stem}-predict.log")  # fmt: skip
    if rc:
        raise RuntimeError(f"radpipe predict failed; see {out / f'{stem}-predict.log'}")
    # a cross-validated run (split.folds) trains one model per fold: its test metric is the
    # folds' ensemble; best / run epochs are listed per fold
    parts = sorted((run / "folds").glob("fold-*")) or [run]
    logs = [[x for x in (p / "log.jsonl").read_text().splitlines() if x.strip()] for p in parts]
    spec = yaml.safe_load((run / "config.yaml").read_text())["model"]
    best = ", ".join(str(_best_epoch(p)) for p in parts)
    epochs = ", ".join(str(len(log)) for log in logs)
    devices = sorted({json.loads((p / "train_done.json").read_text())["device"] for p in parts})
    epoch_s = sum(float(json.loads(x)["time_s"]) for log in logs for x in log)
    return {"task": task, "config": name + _tag(args), "model": spec["type"],
            "family": FAMILY.get(spec["type"], spec["type"]), "params": _params(parts[0]),
            "metric": score(task, pred, test.truth), "best": best, "epochs": epochs,
            "train_s": wall, "predict_s": pwall, "peak_mib": max(peak, ppeak),
            "device": "+".join(devices), "epoch_s": epoch_s}  # fmt: skip


def _best_epoch(run: Path) -> int | str:
    """The epoch of ``best.pt``, or ``avg a-b`` for an averaged checkpoint."""
    from workflows.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(run / "checkpoints" / "best.pt", map_location="cpu")
    if ckpt.get("averaged"):
        epochs = ckpt["averaged"]["epochs"]
        return f"avg {epochs[0]}-{epochs[-1]}"
    return int(ckpt["epoch"])


def _params(run: Path) -> int:
    from workflows.train.checkpoint import load_checkpoint

    state = load_checkpoint(run / "checkpoints" / "best.pt", map_location="cpu")["model"]
    return int(sum(v.numel() for k, v in state.items() if "running_" not in k
                   and not k.endswith("num_batches_tracked")))  # fmt: skip


def outside_baselines(
    data: dict[str, np.ndarray], epochs: int, seeds: list[int] | None = None
) -> list[dict[str, Any]]:
    """Bare PyTorch MLP (shipped size, no augmentation; one row per seed, default 0) and
    logistic regression, official train split, test AUC of the last epoch."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    x = {s: data[f"{s}_images"].reshape(len(data[f"{s}_images"]), -1) / 255.0
         for s in ("train", "test")}  # fmt: skip
    y = {s: data[f"{s}_labels"].reshape(-1) for s in ("train", "test")}
    mu, sd = x["train"].mean(), x["train"].std()
    xt = {s: torch.tensor((v - mu) / sd, dtype=torch.float32) for s, v in x.items()}
    rows = []
    t0 = time.perf_counter()
    lr = LogisticRegression(max_iter=2000, C=0.1).fit(xt["train"].numpy(), y["train"])
    auc = roc_auc_score(y["test"], lr.predict_proba(xt["test"].numpy())[:, 1])
    rows.append(
        {
            "task": "breast",
            "config": "(outside) logistic regression",
            "model": "sklearn",
            "family": "linear",
            "params": 28 * 28 + 1,
            "metric": auc,
            "best": "-",
            "epochs": "-",
            "train_s": time.perf_counter() - t0,
            "predict_s": 0.0,
            "peak_mib": 0.0,
        }
    )
    for seed in seeds or [0]:
        rows.append(_bare_mlp(xt, y, epochs, seed))
    return rows


def _bare_mlp(xt: dict[str, Any], y: dict[str, np.ndarray], epochs: int,
              seed: int) -> dict[str, Any]:  # fmt: skip
    """The bare PyTorch loop: MLP 784-256-64-2, Adam, 25 epochs, last epoch's test AUC."""
    import torch
    from sklearn.metrics import roc_auc_score
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(256, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(64, 2))  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    t0 = time.perf_counter()
    ytr = torch.tensor(y["train"], dtype=torch.int64)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(ytr)).split(32):
            loss = nn.functional.cross_entropy(net(xt["train"][idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        p = net(xt["test"]).softmax(1)[:, 1].numpy()
    return {
        "task": "breast",
        "config": f"(outside) bare PyTorch MLP, no augmentation, seed {seed}",
        "model": "mlp 784-256-64-2",
        "family": "fully connected",
        "params": sum(q.numel() for q in net.parameters()),
        "metric": roc_auc_score(y["test"], p),
        "best": "-",
        "epochs": epochs,
        "train_s": time.perf_counter() - t0,
        "predict_s": 0.0,
        "peak_mib": 0.0,
        "device": "cpu",
        "epoch_s": time.perf_counter() - t0,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| task | config | model | params | test metric | best / run epochs | run s | "
          "training: device, epochs s | predict s | peak MiB |")  # fmt: skip
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        metric = ("AUC " if r["task"] == "breast" else "Dice ") + f"{r['metric']:.3f}"
        print(f"| {r['task']} | {r['config']} | {r['family']} | {r['params']:,} | {metric} | "
              f"{r['best']} / {r['epochs']} | {r['train_s']:.0f} | "
              f"{r.get('device', '-')} {r.get('epoch_s', float('nan')):.1f} | "
              f"{r['predict_s']:.0f} | {r['peak_mib']:.0f} |")  # fmt: skip


def _shared_data() -> Path:
    """``../shared/data`` beside the checkout (or beside a worktree's parent folder)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return ROOT.parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tasks", nargs="*", default=["breast", "hc18"], choices=["breast", "hc18"])
    ap.add_argument("--data", type=Path, default=_shared_data())
    ap.add_argument("--work", type=Path, default=Path("/tmp/radpipe-learn"))
    ap.add_argument("--only", nargs="*", help="config names to run (default: all shipped)")
    ap.add_argument("--epochs", type=int, help="override train.epochs (reduced runs)")
    ap.add_argument("--size", type=parse_size, default=(128, 128),
                    help="HC18 image size: N (NxN) or HxW, e.g. 128x192 (default 128)")  # fmt: skip
    ap.add_argument("--seeds", type=int, nargs="*", help="run seeds (default: the config's)")
    ap.add_argument("--set", nargs="*", help="config overrides, e.g. train.average_epochs=5")
    ap.add_argument("--no-outside", action="store_true", help="skip the outside baselines")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for task in args.tasks:
        if task == "breast":
            dev, test, arrays = breast_archives(
                args.data / "medmnist_breastmnist" / "breastmnist.npz", args.work
            )
            if not args.no_outside:
                rows += outside_baselines(arrays, epochs=25, seeds=args.seeds)
            names = BREAST_CONFIGS
        else:
            dev, test = hc18_archives(args.data / "hc18_fetal_head_us_dev", args.work)
            names = HC18_CONFIGS
        for name in names:
            if args.only and name not in args.only:
                continue
            for seed in args.seeds or [None]:
                args.seed = seed
                rows.append(run_config(name, task, dev, test, args.work, args))
                print(json.dumps(rows[-1], default=str), flush=True)
    print_table(rows)


if __name__ == "__main__":
    main()
