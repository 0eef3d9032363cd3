"""835 reader benchmark: our streaming reader vs oxedi ``parse_file`` (Rust), side by side.

Generates 835 files of 10,000 and 100,000 claims into bench/data/ (gitignored) with
bench/gen835.py, then measures on the same files in one run:

1. library call: ``edi.x835.reader.read_835(path)`` read to the end vs ``oxedi.parse_file(path)``, plus the
   same read with every claim and line field visited, with ``keep_claims=False``, with the
   pure-Python driver, and ``summarize_files`` (what ``--summary`` runs: the reader with
   ``keep_claims=False``); medians of interleaved runs (wall and CPU time);
2. whole process: ``dripline remit show FILE --summary`` vs ``python -c 'import oxedi; oxedi.parse_file(FILE)'``;
3. peak memory (max RSS of a child process, from ``os.wait4``) of our full read and of the summary
   command for 10k vs 100k claims, and the 100k/10k ratio (target <= 1.5).

Run: ``python bench/run.py 835`` (or ``python bench/bench_835.py [--quick]``). Medians of 9 (10k) and 5 (100k) interleaved runs: the machine is a shared VM whose figures move by about 10 % from run to run.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PY = sys.executable
DRIPLINE = str(Path(PY).with_name("dripline"))


def _gen835() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen835", HERE / "gen835.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen835", mod)
    spec.loader.exec_module(mod)
    return mod


def ensure_file(n: int) -> Path:
    """Generate the file in a child process (keeps this process small: a child's peak RSS on Linux
    starts from its parent's at fork time)."""
    DATA.mkdir(exist_ok=True)
    p = DATA / f"835_{n // 1000}k.835"
    if not p.exists():
        subprocess.run(
            [PY, str(HERE / "gen835.py"), str(n), str(p), "--per-set", "1000"], check=True, stdout=subprocess.DEVNULL
        )
    return p


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def side_by_side(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each function, the functions interleaved run by run so that
    they share the machine's load (it is shared with other jobs; CPU time is the steadier one)."""
    walls: dict[str, list[float]] = {k: [] for k in fns}
    cpus: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            walls[k].append(time.perf_counter() - t)
            cpus[k].append(time.process_time() - c)
    return {k: (median(walls[k]), median(cpus[k])) for k in fns}


def run_child(argv: list[str]) -> tuple[float, int, float]:
    """(wall seconds, peak RSS in MiB, CPU seconds) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed ({proc.returncode}): {err[:400]}")
    return wall, ru.ru_maxrss // 1024, ru.ru_utime + ru.ru_stime


def children_side_by_side(argvs: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, int, float]]:
    """Median wall seconds, max peak RSS (MiB), median CPU seconds of each command, interleaved."""
    runs: dict[str, list[tuple[float, int, float]]] = {k: [] for k in argvs}
    for _ in range(repeat):
        for k, argv in argvs.items():
            runs[k].append(run_child(argv))
    return {k: (median([r[0] for r in v]), max(r[1] for r in v), median([r[2] for r in v])) for k, v in runs.items()}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    sizes = [10_000] if quick else [10_000, 100_000]
    paths = {n: ensure_file(n) for n in sizes}
    # 1. whole processes first, while this process is still small (see ensure_file)
    proc: dict[int, tuple] = {}
    for n in sizes:
        path_arg = str(paths[n])
        rep = 9 if n <= 10_000 else 5
        runs = children_side_by_side(
            {
                "ours": [DRIPLINE, "remit", "show", path_arg, "--summary"],
                "oxedi": [PY, "-c", f"import oxedi; oxedi.parse_file({path_arg!r})"],
            },
            rep,
        )
        _, rss_full, _ = run_child(
            [PY, "-c", f"from edi.x835.reader import read_835\nfor r in read_835({path_arg!r}): pass"]
        )
        (p_ours, rss_sum, c_ours), (p_ox, rss_ox, c_ox) = runs["ours"], runs["oxedi"]
        proc[n] = (p_ours, p_ox, rss_sum, rss_ox, rss_full, c_ours, c_ox)
    # 2. library calls, side by side
    import oxedi

    from edi.x835.reader import ACCELERATOR_AVAILABLE, read_835
    from edi.x835.summary import summarize_files

    print(
        f"835 reader driver: {'compiled (edi/x835/_accel.c)' if ACCELERATOR_AVAILABLE else 'pure Python (extension not built)'}",
        flush=True,
    )

    for n in sizes:
        path = paths[n]
        mb = path.stat().st_size / 1e6
        rep = 9 if n <= 10_000 else 5
        counted: list[int] = []

        def ours() -> None:
            counted.append(sum(r.claim_count for r in read_835(path)))

        def ours_pure() -> None:
            counted.append(sum(r.claim_count for r in read_835(path, accelerated=False)))

        def ours_totals() -> None:
            counted.append(sum(r.claim_count for r in read_835(path, keep_claims=False)))

        def ours_every_field() -> None:
            # the same read, then every claim and line field visited: what a consumer of the whole
            # model pays on top of the read
            k = 0
            for r in read_835(path):
                for c in r.claims:
                    k += len(c.adjustments) + len(c.names)
                    for ln in c.lines:
                        k += len(ln.adjustments) + len(ln.refs) + len(ln.dates)
            counted.append(k)

        res = side_by_side(
            {
                "ours": ours,
                "oxedi": lambda: oxedi.parse_file(str(path)),
                "totals": ours_totals,
                "pure": ours_pure,
                "summary": lambda: summarize_files([path]),
                "every": ours_every_field,
            },
            rep,
        )
        assert counted[0] == n, (counted[0], n)
        (t_ours, tc_ours), (t_ox, tc_ox) = res["ours"], res["oxedi"]
        (t_sum, tc_sum), (t_all, tc_all) = res["summary"], res["every"]
        (t_tot, tc_tot), (t_pure, tc_pure) = res["totals"], res["pure"]
        p_ours, p_ox, rss_sum, rss_ox, rss_full, c_ours, c_ox = proc[n]
        print(f"{n:>7} claims {mb:6.1f} MB, median of {rep} interleaved runs", flush=True)
        print(
            f"  library: read_835 {t_ours:6.3f}s wall {tc_ours:6.3f}s cpu ({mb / tc_ours:5.1f} MB/s, "
            f"{n / tc_ours:7.0f} claims/s) | oxedi.parse_file {t_ox:6.3f}s wall {tc_ox:6.3f}s cpu "
            f"({mb / tc_ox:5.1f} MB/s) | ours/oxedi throughput wall {t_ox / t_ours:4.2f}x cpu {tc_ox / tc_ours:4.2f}x",
            flush=True,
        )
        print(
            f"  library: read_835 + every claim/line field read {t_all:6.3f}s wall {tc_all:6.3f}s cpu "
            f"({mb / tc_all:5.1f} MB/s) | vs oxedi cpu {tc_ox / tc_all:4.2f}x",
            flush=True,
        )
        print(
            f"  library: read_835(keep_claims=False) (claims built, balanced, dropped) {t_tot:6.3f}s wall "
            f"{tc_tot:6.3f}s cpu ({mb / tc_tot:5.1f} MB/s) | vs oxedi cpu {tc_ox / tc_tot:4.2f}x",
            flush=True,
        )
        print(
            f"  library: read_835(accelerated=False) (pure-Python driver) {t_pure:6.3f}s wall {tc_pure:6.3f}s cpu "
            f"({mb / tc_pure:5.1f} MB/s) | vs oxedi cpu {tc_ox / tc_pure:4.2f}x",
            flush=True,
        )
        print(
            f"  library: summarize_files (the --summary read) {t_sum:6.3f}s wall {tc_sum:6.3f}s cpu "
            f"({mb / tc_sum:5.1f} MB/s) | vs oxedi wall {t_ox / t_sum:4.2f}x cpu {tc_ox / tc_sum:4.2f}x",
            flush=True,
        )
        print(
            f"  process: remit show --summary {p_ours:6.3f}s wall {c_ours:6.3f}s cpu | python -c parse_file "
            f"{p_ox:6.3f}s wall {c_ox:6.3f}s cpu | ours/oxedi throughput wall {p_ox / p_ours:4.2f}x "
            f"cpu {c_ox / c_ours:4.2f}x",
            flush=True,
        )
        print(
            f"  peak RSS MiB: read_835 loop {rss_full}, remit show --summary {rss_sum}, oxedi parse_file {rss_ox}",
            flush=True,
        )
    if len(sizes) == 2:
        a, b = proc[10_000], proc[100_000]
        print(
            f"peak RSS 100k/10k: read_835 loop {b[4] / a[4]:.2f}x, remit show --summary {b[2] / a[2]:.2f}x, "
            f"oxedi {b[3] / a[3]:.2f}x (target for ours <= 1.5x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
