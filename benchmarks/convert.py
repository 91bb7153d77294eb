"""Benchmark: ``radpipe convert`` against a plain pydicom loop and MONAI ``LoadImage``.

Generates a folder of CT slices (512x512, 16-bit signed, rescale tags) and converts it to
float32 HU ``.npy`` and to lung-windowed 8-bit PNG. Each method runs in a fresh process, so
peak memory (max RSS of the process and its workers) is measured per method.

    .venv/bin/python benchmarks/convert.py --files 1000

Absolute speed drifts between processes on small VMs; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(
    folder: Path, files: int, size: int, nested: bool = False, sparse: bool = False
) -> None:
    """Write ``files`` CT slices: 2 series per patient, realistic headers, random names;
    ``nested``: in one folder per patient and series (``P00000/S000000/``), as archives are
    laid out, else all in ``folder``. ``sparse``: for header-only readers (inspect), each
    file's header is written and its pixel data (zeros, full length) left as a hole, so
    5,000 files of 512x512 take a few MB of disk, not 2.6 GB."""
    import io

    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size] - size / 2
    body = (xx**2 / 0.9 + yy**2 / 0.6) < (size * 0.42) ** 2
    zeros = bytes(size * size * 2)
    per_series = 100
    for k in range(files):
        if k % per_series == 0:
            series, study = generate_uid(), generate_uid()
        ds = Dataset()
        ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = f"P{k // 200}", study, series
        ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CTImageStorage, generate_uid(), "CT"
        ds.Rows = ds.Columns = size
        ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 1.0
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-180, -180, float(k % per_series)]
        ds.InstanceNumber = k % per_series + 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.WindowCenter, ds.WindowWidth = [40, -600], [400, 1500]
        if sparse:
            ds.PixelData = zeros
        else:
            hu = np.where(body, 40, -1000) + rng.normal(0, 20, (size, size))
            ds.PixelData = np.rint(hu + 1024).astype("<i2").tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        where = folder / f"P{k // 200:05d}" / f"S{k // per_series:06d}" if nested else folder
        where.mkdir(parents=True, exist_ok=True)
        target = where / f"{rng.integers(16**8):08x}.dcm"
        if not sparse:
            ds.save_as(target, enforce_file_format=True)
            continue
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        with target.open("wb") as fh:  # the pixel data ends the file: a hole of its length
            fh.write(buf.getbuffer()[: buf.tell() - len(zeros)])
            fh.truncate(buf.tell())


# -- the methods, each run in a child process ---------------------------------------------------
def pydicom_one(path: Path, target: Path, fmt: str) -> None:
    """dcmread + pixel_array + modality LUT (+ lung window) + write of one file."""
    import numpy as np
    import pydicom
    from PIL import Image
    from pydicom.pixels import apply_modality_lut

    ds = pydicom.dcmread(path)
    hu = apply_modality_lut(ds.pixel_array, ds)
    if fmt == "npy":
        np.save(target, hu.astype(np.float32))
    else:
        lo, hi = -600 - 750, -600 + 750
        img = (np.clip((hu - lo) / (hi - lo), 0, 1) * 255 + 0.5).astype(np.uint8)
        Image.fromarray(img).save(target)


def pydicom_loop(src: Path, out: Path, fmt: str) -> int:
    """:func:`pydicom_one` over a folder: what a user would write."""
    n = 0
    for path in sorted(src.glob("*.dcm")):
        pydicom_one(path, out / f"{n}.{'npy' if fmt == 'npy' else 'png'}", fmt)
        n += 1
    return n


def monai_loop(src: Path, out: Path, fmt: str) -> int:
    """MONAI ``LoadImage`` (PydicomReader applies the rescale) + ``np.save``."""
    import numpy as np
    from monai.transforms import LoadImage

    load = LoadImage(reader="PydicomReader", image_only=True)
    n = 0
    for path in sorted(src.glob("*.dcm")):
        np.save(out / f"{n}.npy", np.asarray(load(str(path)), dtype=np.float32))
        n += 1
    return n


def radpipe(src: Path, out: Path, fmt: str, workers: int) -> int:
    from workflows.convert.batch import ConvertOptions, convert_folder

    level = 1 if fmt == "png1" else 6
    fmt = fmt.removesuffix("1")
    window = "lung" if fmt == "png" else "none"
    options = ConvertOptions(
        format=fmt, window=window, workers=workers, resume=False, png_compression=level
    )
    result = convert_folder(src, out, options, progress=False)
    if result.failures:
        raise SystemExit(f"failures: {result.failures[:3]}")
    return result.outputs


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree(pid: int) -> dict[int, tuple[float, float]]:
    """``{pid: (rss_mb, cpu_seconds)}`` for a process and all its descendants."""
    found, stack = {}, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            stat = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(stat[11]) + int(stat[12])) / _TICKS  # utime + stime
            found[p] = (int(status.split("VmRSS:")[1].split()[0]) / 1024, cpu)
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return found


class PeakSampler(threading.Thread):
    """Samples the process tree every 20 ms: ``peak`` total RSS (MB) and the CPU seconds
    each process was last seen with (workers that exit between samples lose < 20 ms)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.cpu: dict[int, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            tree = _tree(os.getpid())
            self.peak = max(self.peak, sum(rss for rss, _ in tree.values()))
            self.cpu.update({p: cpu for p, (_, cpu) in tree.items()})
            time.sleep(0.02)


def child(method: str, src: str, out: str, fmt: str, workers: int) -> None:
    sampler = PeakSampler()
    sampler.start()
    start = time.perf_counter()
    if method == "pydicom":
        n = pydicom_loop(Path(src), Path(out), fmt)
    elif method == "monai":
        n = monai_loop(Path(src), Path(out), fmt)
    else:
        n = radpipe(Path(src), Path(out), fmt, workers)
    seconds = time.perf_counter() - start
    sampler.running = False
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sampler.cpu[os.getpid()] = usage.ru_utime + usage.ru_stime
    own = usage.ru_maxrss / 1024
    cpu = sum(sampler.cpu.values())
    print(json.dumps({"files": n, "seconds": seconds, "rss_mb": max(own, sampler.peak),
                      "cpu_s": cpu}))  # fmt: skip


def run(method: str, src: Path, fmt: str, workers: int = 1) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=src.parent) as out:
        cmd = [sys.executable, __file__, "--child", method, str(src), out, fmt, str(workers)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, src, out, fmt, workers = args.child
        child(method, src, out, fmt, int(workers))
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "dicom"
        src.mkdir()
        generate(src, args.files, args.size)
        mb = sum(p.stat().st_size for p in src.glob("*.dcm")) / 1e6
        quarter = Path(tmp) / "quarter"  # same files, a quarter of them: memory must not grow
        quarter.mkdir()
        for p in sorted(src.glob("*.dcm"))[: args.files // 4]:
            os.link(p, quarter / p.name)
        cases = [
            ("pydicom loop", "pydicom", "npy", 1),
            ("MONAI LoadImage", "monai", "npy", 1),
            ("radpipe convert, 1 worker", "radpipe", "npy", 1),
            ("radpipe convert, 2 workers", "radpipe", "npy", 2),
            ("pydicom loop", "pydicom", "png", 1),
            ("radpipe convert, 1 worker", "radpipe", "png", 1),
            ("radpipe convert, 2 workers", "radpipe", "png", 2),
            ("radpipe convert, zlib level 1, 1 worker", "radpipe", "png1", 1),
            ("radpipe convert, zlib level 1, 2 workers", "radpipe", "png1", 2),
        ]
        print(f"{args.files} CT slices {args.size}x{args.size}, {mb:.0f} MB, {os.cpu_count()} CPUs")
        print(
            "| output | method | files/s | MB/s | vs pydicom loop | CPU ms/file "
            "| files/s per busy core | peak RSS, all processes (MB) |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        base: dict[str, float] = {}
        for label, method, fmt, workers in cases:
            r = run(method, src, fmt, workers)
            rate = r["files"] / r["seconds"]
            kind = fmt.removesuffix("1")
            base.setdefault(kind, rate)
            what = "float32 HU .npy" if kind == "npy" else "lung-window PNG"
            print(
                f"| {what} | {label} | {rate:,.0f} | {rate * mb / args.files:,.0f} | "
                f"{rate / base[kind]:.2f}x | {1000 * r['cpu_s'] / r['files']:.1f} | "
                f"{r['files'] / r['cpu_s']:,.0f} | {r['rss_mb']:,.0f} |",
                flush=True,
            )
        small = run("radpipe", quarter, "npy", 1)
        print(
            f"\npeak RSS, radpipe npy 1 worker: {small['rss_mb']:,.0f} MB for "
            f"{small['files']} files vs the full run above (memory does not grow with files)"
        )


if __name__ == "__main__":
    main()
