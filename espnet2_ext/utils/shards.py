"""Shared helpers for sharded, resumable command-line jobs.

* :func:`read_scp` / :func:`split_shard`: Kaldi-style ``key value`` lists and the
  deterministic contiguous split of Kaldi's ``split_scp.pl`` (the first
  ``n_lines % nshard`` shards get one extra line). Ranks are 0-based:
  ``--nshard 4 --rank 0..3``.
* :class:`DoneMarker`: a small JSON file written atomically *after* a job's outputs
  are complete; it records the counts and a fingerprint of the job's inputs and
  options. A re-run skips a job whose marker exists with the same fingerprint and whose
  outputs exist; anything else (no marker, other options, missing output) is redone
  from scratch.
* :class:`Tally`: in/out/skipped counting with a reason per skipped item; its
  summary line is ``in=N out=M skipped=K (reason=n, ...)``.
* :func:`progress`: tqdm when it is installed and stderr is a terminal, otherwise a
  log line every ``log_every_s`` seconds.
* :func:`parse_kv`: ``key=value`` command-line options with YAML-typed values.
"""

import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

import yaml

T = TypeVar("T")

LOG_FORMAT = "%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"


def setup_logging(level: str = "INFO") -> None:
    """ESPnet's log format on stderr."""
    logging.basicConfig(
        level=getattr(logging, level.upper()), format=LOG_FORMAT, force=True
    )


def read_scp(path: str) -> List[Tuple[str, str]]:
    """Read a Kaldi ``key value`` file: key = first token, value = rest of the line.

    Blank lines are ignored. A line with a key but no value gets value ``""`` (callers
    count it as a bad entry rather than crashing the whole job).
    """
    entries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            parts = line.strip().split(maxsplit=1)
            entries.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return entries


def read_scps(paths: Sequence[str]) -> List[Tuple[str, str]]:
    """Concatenation of several scp files, in the given order."""
    out: List[Tuple[str, str]] = []
    for p in paths:
        out.extend(read_scp(p))
    return out


def shard_bounds(n_items: int, nshard: int, rank: int) -> Tuple[int, int]:
    """[start, end) of shard ``rank`` (0-based) of ``n_items`` lines.

    The shards split_scp.pl makes.
    """
    if nshard < 1:
        raise ValueError(f"nshard must be >= 1, got {nshard}")
    if not 0 <= rank < nshard:
        raise ValueError(f"rank must be in [0, {nshard - 1}] (0-based), got {rank}")
    base, extra = divmod(n_items, nshard)
    start = rank * base + min(rank, extra)
    end = start + base + (1 if rank < extra else 0)
    return start, end


def split_shard(items: Sequence[T], nshard: int, rank: int) -> List[T]:
    """Items of shard ``rank`` out of ``nshard`` contiguous, near-equal shards."""
    start, end = shard_bounds(len(items), nshard, rank)
    return list(items[start:end])


def fingerprint(obj: Any) -> str:
    """SHA-1 of the canonical JSON of ``obj`` (job inputs and options)."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()


def atomic_write_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class DoneMarker:
    """Completion marker of one job (one shard).

    Args:
        path: the marker file (e.g. ``out_dir/done.3`` or ``units.3.txt.done``).
        fingerprint: identifies the job's inputs and options.
        outputs: files that must exist for the job to count as done.
    """

    def __init__(self, path: str, fingerprint: str, outputs: Sequence[str] = ()):
        self.path = path
        self.fingerprint = fingerprint
        self.outputs = list(outputs)

    def read(self) -> Optional[Dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def is_done(self) -> bool:
        """True when the marker matches this job and all outputs exist."""
        info = self.read()
        if info is None:
            return False
        if info.get("fingerprint") != self.fingerprint:
            logging.warning(
                "%s exists but was written for other inputs/options: redoing the job",
                self.path,
            )
            return False
        missing = [p for p in self.outputs if not os.path.exists(p)]
        if missing:
            logging.warning(
                "%s exists but outputs are missing (%s): redoing the job",
                self.path,
                missing,
            )
            return False
        return True

    def clear(self) -> None:
        if os.path.exists(self.path):
            os.remove(self.path)

    def write(self, info: Dict[str, Any]) -> None:
        d = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(d, exist_ok=True)
        payload = dict(
            info,
            fingerprint=self.fingerprint,
            finished=time.strftime("%Y-%m-%d %H:%M:%S"),
        )
        atomic_write_text(
            self.path, json.dumps(payload, indent=2, sort_keys=True) + "\n"
        )


class Tally:
    """Counts items in, out, and skipped (by reason); logs each skip."""

    def __init__(self, name: str = ""):
        self.name = name
        self.n_in = 0
        self.n_out = 0
        self.skipped: Counter = Counter()
        self.skipped_items: List[Tuple[str, str, str]] = []

    def add_in(self, n: int = 1) -> None:
        self.n_in += n

    def add_out(self, n: int = 1) -> None:
        self.n_out += n

    def skip(self, key: str, reason: str, detail: str = "") -> None:
        self.skipped[reason] += 1
        self.skipped_items.append((key, reason, detail))
        logging.warning("skip %s: %s%s", key, reason, f" ({detail})" if detail else "")

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        s = f"in={self.n_in} out={self.n_out} skipped={self.n_skipped}"
        if self.skipped:
            s += (
                " ("
                + ", ".join(f"{r}={n}" for r, n in sorted(self.skipped.items()))
                + ")"
            )
        return (f"{self.name}: " if self.name else "") + s

    def to_dict(self) -> Dict[str, Any]:
        return {
            "in": self.n_in,
            "out": self.n_out,
            "skipped": self.n_skipped,
            "skipped_by_reason": dict(sorted(self.skipped.items())),
        }

    def write_skipped(self, path: str) -> None:
        """``key reason detail`` per skipped item (an empty file when none)."""
        lines = [f"{k} {r} {d}".rstrip() + "\n" for k, r, d in self.skipped_items]
        atomic_write_text(path, "".join(lines))


def progress(
    items: Iterable[T],
    total: Optional[int] = None,
    desc: str = "",
    log_every_s: float = 30.0,
    unit: str = "it",
) -> Iterator[T]:
    """Iterate with a tqdm bar (interactive) or periodic ``desc: i/total`` log lines."""
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm

            yield from tqdm(items, total=total, desc=desc, unit=unit)
            return
        except ImportError:
            pass
    t0 = last = time.time()
    i = 0
    for i, x in enumerate(items, 1):
        yield x
        now = time.time()
        if now - last >= log_every_s:
            last = now
            logging.info(
                "%s: %d%s %s done (%.1f s)",
                desc,
                i,
                f"/{total}" if total else "",
                unit,
                now - t0,
            )
    logging.info("%s: %d %s in %.1f s", desc, i, unit, time.time() - t0)


def file_sha1(path: Union[str, os.PathLike]) -> str:
    """SHA-1 hex digest of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_kv(items: Optional[Sequence[str]]) -> Dict[str, Any]:
    """``key=value`` strings -> typed dict (the values read as YAML scalars).

    E.g. ``["n_mfcc=20", "cmvn=false", "checkpoint=/x.pt"]``.
    """
    out: Dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        k = k.strip()
        if not k:
            raise ValueError(f"empty key in {item!r}")
        try:
            out[k] = yaml.safe_load(v) if v.strip() else ""
        except yaml.YAMLError:
            out[k] = v
    return out
