"""The convert summary counts each kind of the files' own problems once, by what it is.

The kind was the words before a problem's first colon: a JPEG frame that lost its end marker
counted as 'frame 0 1' (which frame, not what), the bits-above-BitsStored note as
'stored values use bits above BitsStored (0028,0101) 12 1' (BitsStored 12 run into the count),
and the ultrasound-regions note, whose text held '; ' (the separator of the problems column),
was cut in two: the manifest's cell held two halves and the summary counted
'1 other region measures something else (x in seconds, y in no unit 1'. Expected lines by hand
from the three files' notes (pydicom #2260-like 12-bit CT, PS3.3 C.8.5.5.1.15 regions).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.pipeline.dicom.test_truncated_jpeg import _cut, _jpeg
from tests.pipeline.dicom.test_ultrasound_regions import B_MODE, DOPPLER, M_MODE, _us
from tests.pipeline.dicom.test_unused_bits import WORDS, _ct

ROOT = Path(__file__).parents[2]


def test_each_kind_of_file_problem_is_counted_by_what_it_is(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _cut(src / "jpeg", _jpeg, 2)  # frame 0 without its end marker (EOI)
    _ct(WORDS).save_as(src / "ct.dcm", enforce_file_format=True)  # 2 values past 12 bits
    _us([B_MODE, M_MODE, DOPPLER]).save_as(src / "us.dcm", enforce_file_format=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(tmp_path / "out"),
           "--quiet", "--format", "npy"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert [x for x in done.stdout.splitlines() if x.startswith("files: ")] == [
        "files: 3 series with files' own problems noted, outputs written ("
        "spacing of part of the image only 1, "
        "stored values use bits above BitsStored (0028,0101) 1, "
        "the compressed stream has no end marker (EOI/EOC) 1)"
    ]
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        problems = {r["source"]: r["problems"] for r in csv.DictReader(fh)}
    assert problems["us.dcm"] == (  # one problem, whole
        "spacing of part of the image only: 0.2x0.1 mm holds inside the ultrasound regions "
        "(0018,6011) calibrated in cm, while 2 other regions measure something else (x in "
        "seconds, y in cm and x in seconds, y in cm/sec: M-mode or Doppler), their pixels are "
        "not millimetres"
    )
