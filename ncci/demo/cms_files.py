"""A synthetic NCCI quarter in the exact CMS file layout, for benchmarks and import tests.

The real files sit behind the AMA licence click-through, so benchmarks cannot download
them. These files reproduce their shape (preamble, tabs, CRLF, latin-1, four parts split by
Column 1 code range, sorted rows, the mix of deleted edits and modifier indicators) with
made-up code pairs. The codes look like CPT/HCPCS codes; the pairs mean nothing.

``changed_fraction`` builds the *next* quarter of a base quarter: the base rows are
regenerated from the same seed, then a fraction of them change (half get a deletion date,
half are new edits), which is what an importer sees between two real quarters.

CLI: ``python -m ncci.demo.cms_files OUTDIR --rows N --quarter 2026Q3 [--changed 0.01]``.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ncci.files import (
    SettingName,
    deletion_date_for,
    parse_quarter,
    previous_quarter,
    quarter_start,
    version_for_quarter,
)

PARTS = 4
ROWS_PER_COLUMN1 = 250  # the real practitioner table: ~2.6 M rows over ~10k column 1 codes
MAX_COLUMN1_CODES = 10_000
_TAIL_BITS = 13  # 8192 pre-built row tails, picked per row with one getrandbits call

# CMS rationale labels; the first five appear verbatim in the v32.2 excerpt and LAYOUT.md.
PTP_RATIONALES: tuple[tuple[str, int], ...] = (
    ("Misuse of Column Two code with Column One code", 40),
    ("CPT Manual or CMS manual coding instruction", 25),
    ("Standards of medical/surgical practice", 10),
    ("Mutually exclusive procedures", 8),
    ("HCPCS/CPT procedure code definition", 5),
    ("More extensive procedure", 3),
    ("Sequential procedure", 2),
    ("Laboratory panel", 2),
    ("Anesthesia service included in surgical procedure", 2),
    ("Gender-specific procedures", 1),
    ("Medically unlikely combination", 1),
    ("Deleted/Not valid code combination", 1),
)

MUE_SETTING_TITLES: dict[str, tuple[str, str]] = {
    # setting -> (file name word, header title)
    "practitioner": ("PractitionerServices", "Practitioner Services MUE Values"),
    "hospital": ("OutpatientHospitalServices", "Outpatient Hospital Services MUE Values"),
    "dme": ("DMESupplierServices", "DME Supplier Services MUE Values"),
}
MUE_INDICATORS: tuple[tuple[str, int], ...] = (
    ("1 Line Edit", 25),
    ("2 Date of Service Edit: Policy", 35),
    ("3 Date of Service Edit: Clinical", 40),
)
MUE_RATIONALES: tuple[tuple[str, int], ...] = (
    ("Code Descriptor / CPT Instruction", 30),
    ("Nature of Service/Procedure", 20),
    ("Clinical: CMS Workgroup", 15),
    ("Nature of Analyte", 10),
    ("CMS Policy", 8),
    ("Anatomic Consideration", 8),
    ("Clinical: Data", 5),
    ("Prescribing Information", 4),
)


@dataclass(frozen=True, slots=True)
class _Tail:
    prior_1996: str
    effective: str
    deletion: str
    indicator: str
    rationale: str

    def text(self, deletion: str | None = None) -> str:
        deleted = self.deletion if deletion is None else deletion
        return f"\t{self.prior_1996}\t{self.effective}\t{deleted}\t{self.indicator}\t{self.rationale}\r\n"


@dataclass(frozen=True, slots=True)
class _WeightedLabels:
    labels: tuple[str, ...]
    cumulative: tuple[int, ...]

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, int]]) -> _WeightedLabels:
        return cls(tuple(c for c, _ in pairs), tuple(itertools.accumulate(w for _, w in pairs)))

    def pick(self, rng: random.Random) -> str:
        # cum_weights: rng.choices(weights=...) would re-accumulate on every call.
        return rng.choices(self.labels, cum_weights=self.cumulative)[0]


_PTP_RATIONALE_PICK = _WeightedLabels.of(PTP_RATIONALES)
_MUE_INDICATOR_PICK = _WeightedLabels.of(MUE_INDICATORS)
_MUE_RATIONALE_PICK = _WeightedLabels.of(MUE_RATIONALES)


def code_universe(rng: random.Random, minimum: int = 0) -> list[str]:
    """Sorted CPT/HCPCS-looking codes: numeric CPT plus Category III, PLA, vaccine and HCPCS II."""
    codes: set[str] = {"G0101", "J1100", "0001A", "0591T", "17000", "11102", "64483", "64484", "77003"}
    codes.update({"93306", "93308", "20610"})
    numeric = max(10_000, minimum)
    codes.update(f"{n:05d}" for n in rng.sample(range(100, 99_500), min(numeric, 99_400)))
    for suffix, top, count in (("T", 999, 600), ("U", 450, 300), ("A", 174, 60), ("M", 20, 15)):
        codes.update(f"{n:04d}{suffix}" for n in rng.sample(range(1, top + 1), count))
    for letter in "ACEGJLQ":
        codes.update(f"{letter}{n:04d}" for n in rng.sample(range(1, 10_000), 200))
    return sorted(codes)


def _quarter_ends_between(first: date, last: date) -> list[date]:
    """Last days of the quarters from ``first``'s quarter through the one before ``last``."""
    ends: list[date] = []
    year, month = first.year, 3 * ((first.month - 1) // 3) + 1
    while True:
        next_year, next_month = (year + 1, 1) if month == 10 else (year, month + 3)
        end = date(next_year, next_month, 1) - timedelta(days=1)
        if end >= last:
            return ends
        ends.append(end)
        year, month = next_year, next_month


def _tail_pool(rng: random.Random, quarter: str) -> list[_Tail]:
    start = quarter_start(quarter)
    starts = [date(y, m, 1) for y in range(1996, start.year + 1) for m in (1, 4, 7, 10) if date(y, m, 1) < start]
    # Newer quarters added more edits.
    recent_weights = list(itertools.accumulate(1.0 + i / 8 for i in range(len(starts))))
    pool = []
    for _ in range(1 << _TAIL_BITS):
        roll = rng.random()
        if roll < 0.03:
            effective, prior = date(1996, 1, 1), "*"
        else:
            effective, prior = rng.choices(starts, cum_weights=recent_weights)[0], ""
        rationale = _PTP_RATIONALE_PICK.pick(rng)
        state = rng.random()
        if state < 0.70:
            deletion = "*"
            indicator = "1" if rng.random() < 0.95 else "0"
        elif state < 0.716:
            # Deleted retroactively: CMS sets deletion = effective and indicator 9.
            deletion, indicator = effective.strftime("%Y%m%d"), "9"
        else:
            ends = _quarter_ends_between(effective, start)
            deletion = rng.choice(ends).strftime("%Y%m%d") if ends else "*"
            indicator = "1" if rng.random() < 0.96 else "0"
        pool.append(_Tail(prior, effective.strftime("%Y%m%d"), deletion, indicator, rationale))
    return pool


def _column1_counts(rng: random.Random, rows: int, universe_size: int) -> list[int]:
    groups = max(1, min(MAX_COLUMN1_CODES, rows // ROWS_PER_COLUMN1, universe_size))
    capacity = universe_size - 1
    if rows > groups * capacity:
        raise ValueError(f"{rows} rows do not fit in {groups} column 1 codes of {capacity} pairs each")
    # Log-normal spread: a few comprehensive procedures carry thousands of edits, most few.
    weights = [rng.lognormvariate(0.0, 0.8) for _ in range(groups)]
    total = sum(weights)
    counts = [min(capacity, max(1, int(rows * w / total))) for w in weights]
    shortfall = rows - sum(counts)
    index = 0
    while shortfall != 0:
        step = 1 if shortfall > 0 else -1
        if (step > 0 and counts[index] < capacity) or (step < 0 and counts[index] > 1):
            counts[index] += step
            shortfall -= step
        index = (index + 1) % groups
    return counts


def _part_boundaries(counts: Sequence[int]) -> list[int]:
    """Group indexes where parts 2..4 start, so each part holds about a quarter of the rows."""
    total = sum(counts)
    boundaries = []
    running = 0
    target_part = 1
    for index, count in enumerate(counts):
        if running >= total * target_part / PARTS and target_part < PARTS:
            boundaries.append(index)
            target_part += 1
        running += count
    while len(boundaries) < PARTS - 1:
        boundaries.append(len(counts))
    return boundaries


def _preamble(quarter: str) -> str:
    year, _ = parse_quarter(quarter)
    lines = (
        f"CPT only copyright {year - 1} American Medical Association.  All rights reserved.\t\t\t\t\t\t",
        "Column1/Column2 Edits\t\t\t\t\t\t",
        "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
        "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
        "\t\t\t\t*=no data\t1=allowed\t",
        "\t\t\t\t\t9=not applicable\t",
    )
    return "".join(line + "\r\n" for line in lines)


def write_synthetic_ptp_quarter(
    directory: Path,
    *,
    rows: int = 2_700_000,
    quarter: str = "2026Q3",
    seed: int = 0,
    changed_fraction: float = 0.0,
    base_seed: int | None = None,
) -> list[Path]:
    """Write ``ccipra-vNNNr0-f1.TXT`` .. ``f4.TXT`` for ``quarter``; return their paths.

    With ``changed_fraction`` > 0 (or a ``base_seed``) this is the quarter after a base
    quarter: the base is what ``write_synthetic_ptp_quarter(rows=rows,
    quarter=previous_quarter(quarter), seed=base_seed)`` writes (``base_seed`` defaults to
    ``seed``). ``rows * changed_fraction`` edits differ from it: half of them are active base
    edits that now carry a deletion date (the day before ``quarter`` starts), half are new
    pairs effective on the first day of ``quarter``. The file then holds
    ``rows + rows * changed_fraction / 2`` rows.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    if not 0.0 <= changed_fraction <= 1.0:
        raise ValueError("changed_fraction must be between 0 and 1")
    next_quarter_mode = changed_fraction > 0 or base_seed is not None
    base_quarter = previous_quarter(quarter) if next_quarter_mode else quarter
    base_rng = random.Random(base_seed if base_seed is not None else seed)
    # A string seed gives a stream independent of the base one, so base rows are identical.
    change_rng = random.Random(f"ncci-synthetic-changes:{seed}:{quarter}")

    universe = code_universe(base_rng)
    universe_size = len(universe)
    pool = _tail_pool(base_rng, base_quarter)
    tails = [tail.text() for tail in pool]
    counts = _column1_counts(base_rng, rows, universe_size)
    column1_indexes = sorted(base_rng.sample(range(universe_size), len(counts)))
    boundaries = _part_boundaries(counts)

    changed = round(rows * changed_fraction) if next_quarter_mode else 0
    to_delete = sorted(change_rng.sample(range(rows), changed // 2)) if changed else []
    additions = sorted(change_rng.choices(range(rows), k=changed - changed // 2)) if changed else []
    deletion_text = deletion_date_for(quarter).strftime("%Y%m%d")
    deleted_tails = [tail.text(deletion_text) if tail.deletion == "*" else "" for tail in pool]
    new_effective = quarter_start(quarter).strftime("%Y%m%d")

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    version = version_for_quarter(quarter)
    paths = [directory / f"ccipra-{version}-f{part}.TXT" for part in range(1, PARTS + 1)]
    preamble = _preamble(quarter)
    getrandbits = base_rng.getrandbits
    sample = base_rng.sample
    population = range(universe_size)
    group_start = 0
    delete_cursor = 0
    add_cursor = 0
    pending_deletions = 0
    part_starts = [0, *boundaries, len(counts)]

    for part, path in enumerate(paths):
        with open(path, "w", encoding="latin-1", newline="", buffering=1 << 20) as out:
            out.write(preamble)
            for group in range(part_starts[part], part_starts[part + 1]):
                count = counts[group]
                column1_index = column1_indexes[group]
                picked = sample(population, count + 1)
                picked.sort()
                # Drop column 1 itself if drawn (a code never edits against itself), else one extra.
                position = bisect.bisect_left(picked, column1_index)
                if position < len(picked) and picked[position] == column1_index:
                    del picked[position]
                else:
                    del picked[base_rng.randrange(count + 1)]
                tail_indexes = [getrandbits(_TAIL_BITS) for _ in range(count)]
                prefix = universe[column1_index] + "\t"
                group_end = group_start + count

                if not changed:
                    out.write(
                        "".join([prefix + universe[c] + tails[t] for c, t in zip(picked, tail_indexes, strict=True)])
                    )
                    group_start = group_end
                    continue

                lines = [tails[t] for t in tail_indexes]
                while delete_cursor < len(to_delete) and to_delete[delete_cursor] < group_end:
                    pending_deletions += 1
                    delete_cursor += 1
                if pending_deletions:
                    # A chosen row that is already deleted passes its turn to the next active one.
                    for offset, t in enumerate(tail_indexes):
                        if pending_deletions and deleted_tails[t]:
                            lines[offset] = deleted_tails[t]
                            pending_deletions -= 1
                body = [(universe[c], line) for c, line in zip(picked, lines, strict=True)]
                first_add = add_cursor
                while add_cursor < len(additions) and additions[add_cursor] < group_end:
                    add_cursor += 1
                wanted = add_cursor - first_add
                if wanted:
                    taken = set(picked)
                    taken.add(column1_index)
                    room = universe_size - len(taken)
                    fresh: set[int] = set()
                    while len(fresh) < min(wanted, room):
                        candidate = change_rng.randrange(universe_size)
                        if candidate not in taken:
                            fresh.add(candidate)
                    for candidate in sorted(fresh):
                        indicator = "1" if change_rng.random() < 0.95 else "0"
                        rationale = _PTP_RATIONALE_PICK.pick(change_rng)
                        body.append((universe[candidate], f"\t\t{new_effective}\t*\t{indicator}\t{rationale}\r\n"))
                    body.sort()
                out.write("".join([prefix + code + line for code, line in body]))
                group_start = group_end
    return paths


def write_synthetic_mue(
    path: Path,
    *,
    rows: int = 15_000,
    quarter: str = "2026Q3",
    setting: SettingName = "practitioner",
    seed: int = 0,
) -> Path:
    """Write an MUE table in the CMS CSV layout; return its path.

    ``path`` may be a directory, in which case the CMS file name
    (``MCR_MUE_PractitionerServices_Eff_07-01-2026.csv``) is used inside it.
    """
    word, title = MUE_SETTING_TITLES[setting]
    path = Path(path)
    if path.is_dir():
        start = quarter_start(quarter)
        path = path / f"MCR_MUE_{word}_Eff_{start:%m-%d-%Y}.csv"
    rng = random.Random(f"ncci-synthetic-mue:{seed}:{quarter}:{setting}")
    universe = code_universe(rng, minimum=rows)
    codes = sorted(rng.sample(universe, min(rows, len(universe))))
    year, _ = parse_quarter(quarter)
    notice = (
        "Current Procedural Terminology (CPT) codes, descriptions and other data only are copyright "
        f"{year - 1} American Medical Association. All rights reserved. \n\n"
        "CPT\u00ae is a registered trademark of the American Medical Association.\n\n"
        "Applicable FARS/DFARS Restrictions Apply to Government Use. \n\n"
        "Fee schedules, relative value units, conversion factors and/or related components are not "
        "assigned by the AMA, are not part of CPT, and the AMA is not recommending their use.  The AMA "
        "does not directly or indirectly practice medicine or dispense medical services.  The AMA "
        "assumes no liability for the data contained or not contained herein."
    )
    values = (1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 10, 20, 50, 100, 999)
    with open(path, "w", encoding="latin-1", newline="") as out:
        # The CMS excerpt uses bare LF line ends, quoting only where a cell needs it.
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([notice, "", "", ""])
        writer.writerow(["HCPCS/\nCPT Code", title, "MUE Adjudication Indicator", "MUE Rationale"])
        for code in codes:
            writer.writerow([code, rng.choice(values), _MUE_INDICATOR_PICK.pick(rng), _MUE_RATIONALE_PICK.pick(rng)])
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ncci.demo.cms_files", description="Write a synthetic CMS NCCI PTP quarter (and MUE table)."
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--rows", type=int, default=2_700_000)
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--changed", type=float, default=0.0, help="fraction changed against the base quarter (e.g. 0.01)"
    )
    parser.add_argument("--base-seed", type=int, default=None, help="seed of the base quarter (default: --seed)")
    parser.add_argument("--mue-rows", type=int, default=0, help="also write a practitioner MUE table")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    paths = write_synthetic_ptp_quarter(
        args.outdir,
        rows=args.rows,
        quarter=args.quarter,
        seed=args.seed,
        changed_fraction=args.changed,
        base_seed=args.base_seed,
    )
    if args.mue_rows:
        paths.append(write_synthetic_mue(args.outdir, rows=args.mue_rows, quarter=args.quarter, seed=args.seed))
    elapsed = time.perf_counter() - started
    for path in paths:
        print(path)
    print(f"wrote {len(paths)} files in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
