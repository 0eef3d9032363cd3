"""Big-batch benchmark: wall time and peak memory of ``dripline code --json`` and
``dripline claims build`` at two batch sizes, and the ratio of their peak memory.

N encounters (``bench_loader.make``: 3-6 administrations each, office / infusion center /
hospital outpatient, two payers; about 1 kB of JSON each) are written as JSON Lines to a
private temporary folder. Each command runs in a fresh child process; its peak resident memory
is the child's own (``os.wait4``), its time the wall clock. ``claims build`` writes into a fresh
output folder and ledger each time, with the bundled config plus ``[interchange] max_file_bytes``
(``BENCH_FILE_BYTES``, default 500,000, about 400 claims: small files so that both sizes span
many files without the bench running for long; the bundled default is 5,000,000).
``code --json`` writes to /dev/null.

    python bench/bench_stream.py [--code N1 N2] [--build N1 N2]

Defaults: ``code`` at 20,000 and 80,000 encounters, ``build`` at 4,000 and 16,000 (validation
with pyx12 is the slow part of a build: about 10 ms per claim here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from bench_loader import make  # noqa: E402

FILE_BYTES = int(os.environ.get("BENCH_FILE_BYTES", "500000"))
CLI = [sys.executable, "-m", "dripline"]


def write_batch(folder: Path, n: int) -> Path:
    """N encounters as JSON Lines (generated in slices so this process stays small)."""
    path = folder / f"enc-{n}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        step = 5000
        for start in range(0, n, step):
            for k, enc in enumerate(make(min(step, n - start), seed=11 + start)):
                enc["id"] = f"L{start + k:07d}"
                enc["patient"]["id"] = f"P{start + k}"
                enc["patient"]["member_id"] = f"M{start + k}"
                out.write(json.dumps(enc) + "\n")
    return path


def run(argv: list[str], stdout_path: str = os.devnull) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one child process."""
    with open(stdout_path, "wb") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=REPO)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
    return wall, ru.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def bench_code(folder: Path, sizes: list[int]) -> None:
    peaks = []
    for n in sizes:
        batch = write_batch(folder, n)
        mb = batch.stat().st_size / 1e6
        wall, peak, rc = run([*CLI, "code", "--json", str(batch)])
        peaks.append(peak)
        print(
            f"code --json   {n:>7,} encounters ({mb:6.1f} MB): {wall:7.1f} s wall, peak RSS {peak:7.1f} MiB, exit {rc}"
        )
        batch.unlink()
    print(f"code --json   peak memory {sizes[-1]:,} / {sizes[0]:,} encounters = {peaks[-1] / peaks[0]:.2f}x")


def bench_build(folder: Path, sizes: list[int]) -> None:
    from coding.config import DEFAULT_CONFIG_PATH

    cfg = folder / "bench.toml"
    cfg.write_text(
        DEFAULT_CONFIG_PATH.read_text().replace("[interchange]", f"[interchange]\nmax_file_bytes = {FILE_BYTES}", 1)
    )
    peaks = []
    for n in sizes:
        batch = write_batch(folder, n)
        out = folder / f"out-{n}"
        ledger = folder / f"ledger-{n}.db"
        mb = batch.stat().st_size / 1e6
        argv = [*CLI, "claims", "build", str(batch), "--out", str(out), "--ledger", str(ledger), "--config", str(cfg)]
        wall, peak, rc = run([*argv, "--json"])
        peaks.append(peak)
        files = sorted(out.glob("*.x12"))
        print(
            f"claims build {n:>7,} encounters ({mb:6.1f} MB): {wall:7.1f} s wall, peak RSS {peak:7.1f} MiB, "
            f"exit {rc}, {len(files)} files (largest {max((f.stat().st_size for f in files), default=0) / 1e6:.2f} MB)"
        )
        batch.unlink()
    print(f"claims build peak memory {sizes[-1]:,} / {sizes[0]:,} encounters = {peaks[-1] / peaks[0]:.2f}x")


def _sizes(argv: list[str], flag: str, default: list[int]) -> list[int] | None:
    if flag not in argv:
        return default if not any(a.startswith("--") for a in argv) else None
    i = argv.index(flag)
    return [int(argv[i + 1]), int(argv[i + 2])]


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpu(s), load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="dripline-bench-") as d:
        folder = Path(d)
        code_sizes = _sizes(args, "--code", [20_000, 80_000])
        build_sizes = _sizes(args, "--build", [4_000, 16_000])
        if code_sizes:
            bench_code(folder, code_sizes)
        if build_sizes:
            bench_build(folder, build_sizes)


if __name__ == "__main__":
    main()
