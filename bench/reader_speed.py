"""The 835 reader alone, in claims per CPU second, as ``bench/ingest.py`` times its parse column.

    python bench/reader_speed.py                          # 5,000 claims in 1 and 10 ST/SE, 20,000 in 1
    python bench/reader_speed.py --files 5000x1,20000x10 --repeat 5
    python bench/reader_speed.py --profile 5000x1         # where the time goes (cProfile)

Each file is one of ``bench/ingest.py``'s synthetic balanced 835s (its ``bench_file``, the
same seeds); each timing is ``read_835(content)`` with its result dropped (so freeing the
parsed file counts), CPU seconds by ``time.process_time``, best of ``--repeat``. Needs no
database and no Django. On a shared machine run it under ``flock /tmp/bench.lock``.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import _cpu_timed, _timed, bench_file
from denials.x12.reader import read_835

TARGET = 25_000  # claims per CPU second (issue 13)


def _file(spec: str) -> tuple[int, int, bytes]:
    claims, _, sets = spec.partition("x")
    count, set_count = int(claims), int(sets or 1)
    # The seed bench/ingest.py gives the 5,000-claim file in its default run (9000 + index).
    return count, set_count, bench_file(count, set_count, seed=9001)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", default="5000x1,5000x10,20000x1", help="CLAIMSxSETS, comma separated")
    parser.add_argument("--repeat", type=int, default=3, help="reads per file (the best is shown)")
    parser.add_argument("--profile", metavar="CLAIMSxSETS", help="print a cProfile of one read instead")
    args = parser.parse_args()

    if args.profile:
        import cProfile
        import pstats

        _, _, content = _file(args.profile)
        read_835(content)  # warm the caches of the interpreter, as the timed runs are
        profiler = cProfile.Profile()
        profiler.runcall(read_835, content)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
        return

    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; best of {args.repeat}")
    print(f"{'file':>10} {'claims':>7} {'CPU s':>7} {'CPU c/s':>9} {'wall c/s':>9}  target {TARGET:,} c/s")
    for spec in args.files.split(","):
        claims, sets, content = _file(spec)
        read = partial(read_835, content)
        cpu = min(_cpu_timed(read) for _ in range(args.repeat))
        wall = min(_timed(read) for _ in range(args.repeat))
        met = "met" if claims / cpu >= TARGET else "not met"
        print(f"{f'{claims}x{sets}':>10} {claims:>7} {cpu:>7.3f} {claims / cpu:>9,.0f} {claims / wall:>9,.0f}  {met}")


if __name__ == "__main__":
    main()
