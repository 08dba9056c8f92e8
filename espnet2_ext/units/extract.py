"""Batched feature extraction over a list of ``(utt_id, wav.scp value)`` entries.

Shared by ``espnet2_ext.bin.dump_features`` and ``espnet2_ext.bin.apply_kmeans
--wav_scp``. Utterances are sorted by duration (read from file headers) and grouped
into batches bounded by ``batch_size`` utterances and ``batch_seconds`` of padded
audio, so little compute is spent on padding. Failures are recorded in a
:class:`~espnet2_ext.utils.shards.Tally` with their reason and never stop the job.
"""

import logging
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from espnet2_ext.units.audio import (
    REASON_BAD_ENTRY,
    AudioError,
    limit_duration,
    load_audio,
    probe_duration,
)
from espnet2_ext.units.features import AbsFeatureExtractor
from espnet2_ext.utils.shards import Tally, progress

REASON_DUPLICATE = "duplicate_id"
REASON_NO_FRAMES = "no_frames"
REASON_EXTRACTION = "extraction_failed"
REASON_NON_FINITE = "non_finite_features"


def make_batches(
    durations: Sequence[Optional[float]], batch_size: int, batch_seconds: float
) -> List[List[int]]:
    """Group indices into length-sorted batches.

    Each batch has at most ``batch_size`` items and at most ``batch_seconds`` of
    padded audio (items * longest duration); an item longer than ``batch_seconds``
    forms its own batch. Unknown durations (None: pipes, unreadable headers) go last,
    one per batch.
    """
    known = sorted((d, i) for i, d in enumerate(durations) if d is not None)
    unknown = [i for i, d in enumerate(durations) if d is None]
    batches: List[List[int]] = []
    cur: List[int] = []
    for d, i in known:
        if cur and (len(cur) + 1 > batch_size or (len(cur) + 1) * d > batch_seconds):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    batches.extend([i] for i in unknown)
    return batches


def _run(extractor: AbsFeatureExtractor, wavs: List[torch.Tensor], device: str):
    lengths = torch.tensor([w.numel() for w in wavs], dtype=torch.long)
    padded = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    with torch.no_grad():
        feats, feat_lengths = extractor(padded.to(device), lengths.to(device))
    return feats.float().cpu(), feat_lengths.cpu()


def iter_features(
    entries: Sequence[Tuple[str, str]],
    extractor: AbsFeatureExtractor,
    tally: Tally,
    device: str = "cpu",
    batch_size: int = 16,
    batch_seconds: float = 160.0,
    min_duration: float = 0.1,
    max_duration: Optional[float] = None,
    allow_pipe: bool = True,
    desc: str = "features",
) -> Iterator[Tuple[str, np.ndarray]]:
    """Yield ``(utt_id, feats (T, D) float32)`` in length-sorted order.

    Every entry is counted in ``tally.n_in``; yielded ones are *not* counted as out
    (the caller does that once it has written them); failures go to ``tally.skip``.
    """
    seen = set()
    todo: List[Tuple[str, str]] = []
    for key, value in entries:
        tally.add_in()
        if key in seen:
            tally.skip(key, REASON_DUPLICATE, "utterance id seen before in this shard")
            continue
        seen.add(key)
        if not value.strip():
            tally.skip(key, REASON_BAD_ENTRY, "wav.scp line has no path")
            continue
        todo.append((key, value))
    limit = limit_duration(max_duration, extractor.max_input_seconds)
    if limit is not None and limit != max_duration:
        logging.info(
            "%s: %s encodes at most %g s per utterance: longer audio is skipped "
            "(cut or segment it first)",
            desc,
            type(extractor).__name__,
            limit,
        )
    durations = [probe_duration(v) for _, v in todo]
    batches = make_batches(durations, batch_size, batch_seconds)
    logging.info("%s: %d utterances in %d batches", desc, len(todo), len(batches))
    for batch in progress(batches, total=len(batches), desc=desc, unit="batch"):
        keys, wavs = [], []
        for i in batch:
            key, value = todo[i]
            try:
                wavs.append(
                    load_audio(
                        value,
                        min_duration=min_duration,
                        max_duration=limit,
                        allow_pipe=allow_pipe,
                    )
                )
                keys.append(key)
            except AudioError as e:
                tally.skip(
                    key, e.reason, f"{e.source}: {e.detail}" if e.detail else e.source
                )
        if not keys:
            continue
        try:
            results = [_run(extractor, wavs, device)]
            groups = [list(range(len(keys)))]
        except (RuntimeError, ValueError) as e:  # e.g. out of memory: one by one
            if len(keys) == 1:
                tally.skip(keys[0], REASON_EXTRACTION, str(e).splitlines()[0])
                continue
            logging.warning(
                "batch of %d failed (%s); retrying one by one", len(keys), e
            )
            results, groups = [], []
            for j, w in enumerate(wavs):
                try:
                    results.append(_run(extractor, [w], device))
                    groups.append([j])
                except (RuntimeError, ValueError) as e1:
                    tally.skip(keys[j], REASON_EXTRACTION, str(e1).splitlines()[0])
        for (feats, feat_lengths), idx in zip(results, groups):
            for row, j in enumerate(idx):
                n = int(feat_lengths[row])
                if n == 0:
                    tally.skip(
                        keys[j], REASON_NO_FRAMES, "audio shorter than one frame"
                    )
                    continue
                arr = feats[row, :n].numpy()
                if not np.isfinite(arr).all():
                    tally.skip(keys[j], REASON_NON_FINITE, "NaN/inf in features")
                    continue
                yield keys[j], np.ascontiguousarray(arr, dtype=np.float32)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
