#!/usr/bin/env python3
"""Check (and optionally fix) a Kaldi-style data directory as used by ESPnet.

Checks:

* ``wav.scp``, ``text``, ``utt2spk`` and ``spk2utt`` exist (``spk2utt`` may be absent
  with ``--fix``: it is rebuilt from ``utt2spk``);
* every line is well formed (``<id> <value>``; UTF-8; no CR line ends);
* ids are unique and lines are sorted by id in C-locale (byte) order;
* ``wav.scp``, ``text``, ``utt2spk`` and the optional per-utterance files that exist
  (``utt2dur``, ``utt2num_samples``, ``utt2num_frames``, ``feats.scp``, ``utt2lang``,
  ``utt2category``) cover the same utterances;
* no empty transcripts;
* ``spk2utt`` is exactly the inverse of ``utt2spk``; ``spk2gender`` (optional) covers
  every speaker with ``m``/``f``;
* audio files named in ``wav.scp`` exist (unless ``--no_check_audio``; piped commands
  ending in ``|`` are not checked);
* warning only: speaker ids should be prefixes of utterance ids (Kaldi's sort
  requirement; ESPnet does not need it).

``--fix`` works like Kaldi's ``fix_data_dir.sh``: drops malformed lines, duplicate ids
(the first is kept), empty transcripts and utterances whose audio is missing, keeps
the intersection of the per-utterance files, sorts everything, rebuilds ``spk2utt``
and filters ``spk2gender``. The originals go to ``<dir>/.backup/``. Everything dropped
is reported with its reason.

Exit status 0 when the directory is valid (after fixing, with ``--fix``), 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

LOG = logging.getLogger("validate_data_dir")

REQUIRED_UTT_FILES: tuple[str, ...] = ("wav.scp", "text", "utt2spk")
OPTIONAL_UTT_FILES: tuple[str, ...] = (
    "utt2dur",
    "utt2num_samples",
    "utt2num_frames",
    "feats.scp",
    "utt2lang",
    "utt2category",
)
UNSUPPORTED_FILES: tuple[str, ...] = ("segments",)
MAX_REPORT = 10


def c_sorted(keys: list[str]) -> list[str]:
    """Sort like ``LC_ALL=C sort`` (UTF-8 byte order equals code point order)."""
    return sorted(keys)


@dataclass
class ParsedFile:
    """A two-column Kaldi file: entries in file order and the lines it could not use."""

    name: str
    entries: list[tuple[str, str]] = field(default_factory=list)
    bad_lines: list[tuple[int, str, str]] = field(
        default_factory=list
    )  # (lineno, reason, line)

    def keys(self) -> list[str]:
        """Ids in file order (duplicates included)."""
        return [k for k, _ in self.entries]

    def as_dict(self) -> dict[str, str]:
        """Id -> value, the first occurrence winning."""
        d: dict[str, str] = {}
        for k, v in self.entries:
            d.setdefault(k, v)
        return d


def read_kaldi_file(path: Path, allow_empty_value: bool = False) -> ParsedFile:
    """Parse ``<id> <value>`` lines; malformed lines are collected, not raised."""
    pf = ParsedFile(path.name)
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # after the final newline
    for lineno, bline in enumerate(lines, 1):
        try:
            line = bline.decode("utf-8")
        except UnicodeDecodeError:
            pf.bad_lines.append((lineno, "not UTF-8", bline.decode("utf-8", "replace")))
            continue
        if line.endswith("\r"):
            pf.bad_lines.append((lineno, "CR line end", line))
            continue
        if not line.strip():
            pf.bad_lines.append((lineno, "blank line", line))
            continue
        if line[0].isspace():
            pf.bad_lines.append((lineno, "leading whitespace", line))
            continue
        parts = line.split(maxsplit=1)
        key = parts[0]
        value = parts[1].strip() if len(parts) > 1 else ""
        if not value and not allow_empty_value:
            pf.bad_lines.append((lineno, "no value", line))
            continue
        pf.entries.append((key, value))
    return pf


@dataclass
class ValidationResult:
    """Outcome of :func:`validate_data_dir`."""

    data_dir: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    num_utts: int = 0
    num_spks: int = 0

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors


def _examples(items: Sequence[object]) -> str:
    shown = ", ".join(str(x) for x in list(items)[:MAX_REPORT])
    more = f" ... (+{len(items) - MAX_REPORT} more)" if len(items) > MAX_REPORT else ""
    return shown + more


def _is_plain_path(value: str) -> bool:
    return not value.rstrip().endswith("|")


def _check_order_and_dups(pf: ParsedFile, res: ValidationResult) -> None:
    keys = pf.keys()
    dups = [k for k, n in Counter(keys).items() if n > 1]
    if dups:
        res.errors.append(f"{pf.name}: {len(dups)} duplicate ids: {_examples(dups)}")
    unsorted = [f"{a} > {b}" for a, b in zip(keys, keys[1:]) if a > b]
    if unsorted:
        res.errors.append(
            f"{pf.name}: not sorted in C order at {len(unsorted)} places: "
            f"{_examples(unsorted)}"
        )
    for lineno, reason, line in pf.bad_lines:
        res.errors.append(f"{pf.name}:{lineno}: {reason}: {line!r}")


def validate_data_dir(
    data_dir: str | Path, check_audio: bool = True
) -> ValidationResult:
    """Check a Kaldi data dir; see the module docstring for what is checked."""
    d = Path(data_dir)
    res = ValidationResult(d)
    if not d.is_dir():
        res.errors.append(f"{d}: not a directory")
        return res
    for name in UNSUPPORTED_FILES:
        if (d / name).exists():
            res.errors.append(
                f"{name}: present, but this validator does not support segmented "
                "data dirs"
            )
    missing = [n for n in (*REQUIRED_UTT_FILES, "spk2utt") if not (d / n).is_file()]
    if missing:
        res.errors.append(f"missing files: {', '.join(missing)}")
    parsed: dict[str, ParsedFile] = {}
    for name in (*REQUIRED_UTT_FILES, *OPTIONAL_UTT_FILES):
        if (d / name).is_file():
            parsed[name] = read_kaldi_file(d / name, allow_empty_value=(name == "text"))
            _check_order_and_dups(parsed[name], res)
    if "text" in parsed:
        empty = [k for k, v in parsed["text"].entries if not v]
        if empty:
            res.errors.append(
                f"text: {len(empty)} empty transcripts: {_examples(empty)}"
            )
    # same utterance set everywhere
    if parsed:
        ref_name = "wav.scp" if "wav.scp" in parsed else next(iter(parsed))
        ref = set(parsed[ref_name].keys())
        for name, pf in parsed.items():
            ks = set(pf.keys())
            if ks != ref:
                only_here = c_sorted(list(ks - ref))
                only_ref = c_sorted(list(ref - ks))
                msg = f"{name} and {ref_name} differ:"
                if only_here:
                    msg += f" {len(only_here)} only in {name} ({_examples(only_here)});"
                if only_ref:
                    msg += (
                        f" {len(only_ref)} only in {ref_name} ({_examples(only_ref)});"
                    )
                res.errors.append(msg.rstrip(";"))
        res.num_utts = len(ref)
        if not ref:
            res.errors.append("no utterances")
    if "utt2spk" in parsed:
        u2s = parsed["utt2spk"].as_dict()
        multi = [k for k, v in u2s.items() if len(v.split()) != 1]
        if multi:
            res.errors.append(f"utt2spk: speaker must be one token: {_examples(multi)}")
        spks = set(u2s.values())
        res.num_spks = len(spks)
        not_prefix = [u for u, s in u2s.items() if not u.startswith(s)]
        if not_prefix:
            res.warnings.append(
                f"utt2spk: {len(not_prefix)} speaker ids are not prefixes of their "
                "utterance ids (Kaldi's sort requirement; ESPnet does not need it): "
                f"{_examples(not_prefix)}"
            )
        if (d / "spk2utt").is_file():
            _check_spk2utt(d / "spk2utt", u2s, res)
        if (d / "spk2gender").is_file():
            s2g = read_kaldi_file(d / "spk2gender")
            _check_order_and_dups(s2g, res)
            g = s2g.as_dict()
            lacking = c_sorted(list(spks - set(g)))
            if lacking:
                res.errors.append(
                    f"spk2gender: {len(lacking)} speakers without gender: "
                    f"{_examples(lacking)}"
                )
            bad = [k for k, v in g.items() if v not in ("m", "f")]
            if bad:
                res.errors.append(
                    f"spk2gender: gender must be m or f: {_examples(bad)}"
                )
    if check_audio and "wav.scp" in parsed:
        gone = [
            k
            for k, v in parsed["wav.scp"].entries
            if _is_plain_path(v) and not os.path.isfile(v)
        ]
        if gone:
            res.errors.append(
                f"wav.scp: {len(gone)} audio files do not exist: {_examples(gone)}"
            )
    return res


def _check_spk2utt(path: Path, u2s: dict[str, str], res: ValidationResult) -> None:
    pf = read_kaldi_file(path)
    _check_order_and_dups(pf, res)
    expected: dict[str, list[str]] = defaultdict(list)
    for u in c_sorted(list(u2s)):
        expected[u2s[u]].append(u)
    got = {k: v.split() for k, v in pf.entries}
    if set(got) != set(expected):
        extra = c_sorted(list(set(got) - set(expected)))
        lack = c_sorted(list(set(expected) - set(got)))
        res.errors.append(
            f"spk2utt: speakers differ from utt2spk (extra: {_examples(extra)}; "
            f"missing: {_examples(lack)})"
        )
    wrong = [
        s
        for s in set(got) & set(expected)
        if set(got[s]) != set(expected[s]) or len(got[s]) != len(expected[s])
    ]
    if wrong:
        res.errors.append(
            f"spk2utt: utterance lists differ from utt2spk for {len(wrong)} "
            f"speakers: {_examples(c_sorted(wrong))}"
        )
    unsorted = [
        s for s in set(got) & set(expected) if s not in wrong and got[s] != expected[s]
    ]
    if unsorted:
        res.errors.append(
            f"spk2utt: utterance lists not sorted for {len(unsorted)} speakers: "
            f"{_examples(c_sorted(unsorted))}"
        )


@dataclass
class FixResult:
    """Outcome of :func:`fix_data_dir`."""

    kept: int
    dropped: Counter = field(default_factory=Counter)  # reason -> count
    dropped_items: list[tuple[str, str]] = field(
        default_factory=list
    )  # (id or line, reason)
    validation: ValidationResult | None = None


def write_kaldi_file(path: Path, entries: Sequence[tuple[str, str]]) -> None:
    """Write ``<id> <value>`` lines (UTF-8, ``\\n``) atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for k, v in entries:
            f.write(f"{k} {v}\n" if v else f"{k}\n")
    os.replace(tmp, path)


def spk2utt_entries(utt2spk: dict[str, str]) -> list[tuple[str, str]]:
    """``spk2utt`` lines from an utt->spk mapping (utterances in C order)."""
    s2u: dict[str, list[str]] = defaultdict(list)
    for u in c_sorted(list(utt2spk)):
        s2u[utt2spk[u]].append(u)
    return [(s, " ".join(s2u[s])) for s in c_sorted(list(s2u))]


def fix_data_dir(
    data_dir: str | Path, check_audio: bool = True, backup: bool = True
) -> FixResult:
    """Make a data dir consistent like Kaldi's ``fix_data_dir.sh``.

    See the module docstring.
    """
    d = Path(data_dir)
    for name in UNSUPPORTED_FILES:
        if (d / name).exists():
            raise ValueError(f"{d / name}: segmented data dirs are not supported")
    missing = [n for n in REQUIRED_UTT_FILES if not (d / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{d}: cannot fix, missing {', '.join(missing)}")
    present = [
        n for n in (*REQUIRED_UTT_FILES, *OPTIONAL_UTT_FILES) if (d / n).is_file()
    ]
    res = FixResult(kept=0)

    def drop(item: str, reason: str) -> None:
        res.dropped[reason] += 1
        res.dropped_items.append((item, reason))

    tables: dict[str, dict[str, str]] = {}
    for name in present:
        pf = read_kaldi_file(d / name, allow_empty_value=(name == "text"))
        for lineno, reason, line in pf.bad_lines:
            if reason != "blank line":
                drop(f"{name}:{lineno}:{line!r}", f"{name}: {reason}")
        table: dict[str, str] = {}
        for k, v in pf.entries:
            if k in table:
                drop(k, f"{name}: duplicate id (first kept)")
                continue
            table[k] = v
        tables[name] = table
    u2s = tables["utt2spk"]
    for k in [k for k, v in u2s.items() if len(v.split()) != 1]:
        del u2s[k]
        drop(k, "utt2spk: speaker is not one token")
    keep = set(tables["wav.scp"])
    for name in present:
        keep &= set(tables[name])
    union: set[str] = set().union(*(set(tables[n]) for n in present))
    for k in c_sorted(list(union - keep)):
        lacking = [n for n in present if k not in tables[n]]
        drop(k, f"missing from {','.join(lacking)}")
    for k in c_sorted([k for k in keep if not tables["text"][k]]):
        keep.discard(k)
        drop(k, "empty transcript")
    if check_audio:
        for k in c_sorted(list(keep)):
            v = tables["wav.scp"][k]
            if _is_plain_path(v) and not os.path.isfile(v):
                keep.discard(k)
                drop(k, "audio file missing")
    if backup:
        bdir = d / ".backup"
        bdir.mkdir(exist_ok=True)
        for name in (*present, "spk2utt", "spk2gender"):
            if (d / name).is_file():
                shutil.copy2(d / name, bdir / name)
    order = c_sorted(list(keep))
    for name in present:
        write_kaldi_file(d / name, [(k, tables[name][k]) for k in order])
    kept_u2s = {k: u2s[k] for k in order}
    write_kaldi_file(d / "spk2utt", spk2utt_entries(kept_u2s))
    if (d / "spk2gender").is_file():
        spks = set(kept_u2s.values())
        g = read_kaldi_file(d / "spk2gender").as_dict()
        for s in c_sorted(list(set(g) - spks)):
            drop(s, "spk2gender: speaker has no utterances")
        write_kaldi_file(
            d / "spk2gender", [(s, g[s]) for s in c_sorted(list(spks & set(g)))]
        )
    res.kept = len(order)
    res.validation = validate_data_dir(d, check_audio=check_audio)
    return res


def log_validation(res: ValidationResult) -> None:
    """Log a validation result (errors at ERROR, warnings at WARNING)."""
    for w in res.warnings:
        LOG.warning("%s: %s", res.data_dir, w)
    for e in res.errors:
        LOG.error("%s: %s", res.data_dir, e)
    status = "OK" if res.ok else f"INVALID ({len(res.errors)} errors)"
    LOG.info(
        "%s: %s, %d utterances, %d speakers",
        res.data_dir,
        status,
        res.num_utts,
        res.num_spks,
    )


def log_fix(res: FixResult, data_dir: str | Path) -> None:
    """Log what a fix kept and dropped."""
    for item, reason in res.dropped_items[: MAX_REPORT * 5]:
        LOG.warning("%s: dropped %s (%s)", data_dir, item, reason)
    if len(res.dropped_items) > MAX_REPORT * 5:
        LOG.warning(
            "%s: ... %d more dropped entries",
            data_dir,
            len(res.dropped_items) - MAX_REPORT * 5,
        )
    reasons = ", ".join(f"{r}: {n}" for r, n in sorted(res.dropped.items())) or "none"
    LOG.info(
        "%s: fixed, kept %d utterances; dropped %d entries (%s)",
        data_dir,
        res.kept,
        sum(res.dropped.values()),
        reasons,
    )


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("data_dir", nargs="+", help="Kaldi-style data directories")
    p.add_argument(
        "--fix",
        action="store_true",
        help="fix like Kaldi's fix_data_dir.sh (backup in .backup/)",
    )
    p.add_argument(
        "--no_check_audio",
        dest="check_audio",
        action="store_false",
        help="do not check that audio files exist",
    )
    p.add_argument(
        "--no_backup",
        dest="backup",
        action="store_false",
        help="with --fix: no .backup/ copy",
    )
    p.add_argument(
        "--log_level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns 0 when every directory is (made) valid."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    status = 0
    for data_dir in args.data_dir:
        if args.fix:
            try:
                fres = fix_data_dir(
                    data_dir, check_audio=args.check_audio, backup=args.backup
                )
            except (OSError, ValueError) as e:
                LOG.error("%s: %s", data_dir, e)
                status = 1
                continue
            log_fix(fres, data_dir)
            assert fres.validation is not None
            vres = fres.validation
        else:
            vres = validate_data_dir(data_dir, check_audio=args.check_audio)
        log_validation(vres)
        if not vres.ok:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
