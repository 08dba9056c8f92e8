"""What the corpus synthesis scripts share (``local/synth_corpus.py``,
``local/synth_st_corpus.py``, ``local/synth_vctk_corpus.py``).

* :func:`check_existing`: refuse to mix corpora made with different options in one
  output directory, unless ``--overwrite`` (which removes the previous corpus), and
  refuse a directory that has the corpus's files but no ``manifest.json``.
* :func:`run_synth_jobs`: a worker run on every planned clip, in this process or in a
  pool of ``nj`` processes, with progress logging; returns each clip's length in
  samples and how many files were made.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

LOG = logging.getLogger("synth_common")

MANIFEST = "manifest.json"
DONE = ".done"


def check_existing(
    out: Path,
    key: dict[str, Any],
    overwrite: bool,
    ours: Sequence[str] | None,
    markers: Sequence[str] | None = None,
    what: str = "corpus files",
    log: logging.Logger = LOG,
) -> None:
    """Refuse to mix corpora made with different options in ``out``.

    Args:
        out: the corpus directory (exists).
        key: the options of this build, as recorded under ``options`` in
            ``manifest.json``.
        overwrite: when ``manifest.json`` has other options: remove the previous
            corpus (``ours``, ``manifest.json`` and ``.done``) instead of refusing.
        ours: the names under ``out`` that the script writes (directories are removed
            whole); None: everything in ``out`` is the corpus's, ``out`` is emptied.
        markers: names whose presence without ``manifest.json`` means a tree not
            written by the script (refused); default: ``ours`` (no check when that is
            None).
        what: what the markers are, for the message.
        log: the calling script's logger.

    Raises:
        SystemExit: other options without ``overwrite``, or a foreign tree.
    """
    manifest = out / MANIFEST
    if not manifest.is_file():
        if markers is None:
            markers = ours or ()
        if any((out / name).exists() for name in markers):
            raise SystemExit(
                f"{out} has {what} but no {MANIFEST}: not written by this script, "
                "refusing"
            )
        return
    old = json.loads(manifest.read_text(encoding="utf-8")).get("options")
    if old == key:
        return
    if not overwrite:
        raise SystemExit(
            f"{out} holds a corpus made with other options ({manifest});\n"
            f"  old: {old}\n  new: {key}\n"
            "use another --out or pass --overwrite"
        )
    log.warning("--overwrite: removing the previous corpus in %s", out, stacklevel=2)
    if ours is None:
        shutil.rmtree(out)
        out.mkdir(parents=True)
        return
    for name in (*ours, MANIFEST, DONE):
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)


def _results(
    worker: Callable[[Any], tuple[str, int, int]], jobs: Sequence[Any], nj: int
) -> Iterable[tuple[str, int, int]]:
    if nj <= 1:
        yield from map(worker, jobs)
        return
    ctx = multiprocessing.get_context(
        "fork" if sys.platform.startswith("linux") else "spawn"
    )
    with ctx.Pool(nj) as pool:
        yield from pool.imap_unordered(worker, jobs, chunksize=4)
        pool.close()
        pool.join()


def run_synth_jobs(
    worker: Callable[[Any], tuple[str, int, int]],
    jobs: Sequence[Any],
    nj: int,
    t0: float,
    log: logging.Logger = LOG,
) -> tuple[dict[str, int], int]:
    """Run ``worker`` on every job: in this process when ``nj <= 1``, else in a pool
    of ``nj`` processes (fork on Linux; results in the order they come).

    ``worker`` (a module-level function, for the pool) returns ``(key, samples,
    made)``: the clip's id, its length and the number of files it made (0 when they
    existed). Progress is logged to ``log`` every 5% of the jobs (at least every 10)
    and at least every 30 s, with the time since ``t0``.

    Returns:
        key -> samples, and the sum of ``made``.
    """
    samples: dict[str, int] = {}
    made = 0
    every = max(10, len(jobs) // 20)
    last_log = time.time()
    for i, (key, n, m) in enumerate(_results(worker, jobs, nj), 1):
        samples[key] = n
        made += m
        if i == len(jobs) or i % every == 0 or time.time() - last_log > 30:
            last_log = time.time()
            el = time.time() - t0
            log.info(
                "progress %d/%d (%.0f%%), synthesized %d, %.0fs elapsed, eta %.0fs",
                i,
                len(jobs),
                100.0 * i / len(jobs),
                made,
                el,
                el / i * (len(jobs) - i),
                stacklevel=2,  # the caller's module and line
            )
    return samples, made
