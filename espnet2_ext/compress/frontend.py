"""ESPnet frontends that compress unit-id sequences before the encoder.

Both take the source ids the MT/discrete-ASR model hands its frontend -- ``<sos/eos>``
followed by the unit ids, padded -- and return (B, S, D) segment vectors and S:

* :class:`EntropyCompressFrontend` (``frontend: entropy_compress``): a frozen unit LM
  gives per-unit entropies, a boundary rule turns them into segments, and
  :class:`~espnet2_ext.compress.fusion.CrossAttentionCompressor` fuses each segment.
* :class:`FixedPoolFrontend` (``frontend: fixed_pool``): the same fusion over
  non-overlapping windows of ``pool_size`` units, so that the only difference is where
  the boundaries fall.
* :class:`OraclePoolFrontend` (``frontend: oracle_pool``): a control, the same fusion
  over segments that start at given positions (e.g. true phone starts).

The unit LM is held outside the module tree: its weights are not trained, not in the
optimizer, not re-initialised by ``--init`` and not saved in the model checkpoint (it
is loaded from ``lm_train_config``/``lm_file``, which a packed model carries).
"""

import logging
from pathlib import Path
from typing import List, Optional, Tuple, Union

import torch
from typeguard import typechecked

from espnet2_ext.compat import AbsFrontend
from espnet2_ext.compress.fusion import CrossAttentionCompressor
from espnet2_ext.entropy.boundaries import (
    Segmentation,
    check_lengths,
    check_rule,
    segment,
    split_long,
)
from espnet2_ext.entropy.cache import EntropyCache
from espnet2_ext.entropy.unit_lm import UnitLM, UnitLMError, read_token_list

logger = logging.getLogger(__name__)


def shuffle_segment_lengths(
    units: torch.Tensor, lengths: torch.Tensor, seg: Segmentation
) -> Segmentation:
    """The same segment lengths per utterance in another order (a control).

    The order is the ascending order of a pseudo-random key per segment, derived from
    the segment index and a hash of the utterance's unit ids, so an utterance gets the
    same permutation whenever it is seen (training epochs, inference).

    Args:
        units: (B, T) unit ids (padding ignored).
        lengths: (B,) valid lengths.
        seg: the segmentation to permute.

    Returns:
        A :class:`Segmentation` with the same counts and multiset of lengths per
        utterance (``no_boundary`` copied).
    """
    B, T = units.shape
    dev = units.device
    valid = torch.arange(T, device=dev)[None, :] < lengths[:, None]
    S = int(seg.counts.max())
    dur = torch.zeros(B, S, dtype=torch.long, device=dev)
    dur.scatter_add_(1, seg.seg_ids.clamp(min=0), valid.long())
    # a hash of the utterance: ids weighted by their (1-based) position, mod a prime
    w = torch.arange(1, T + 1, device=dev, dtype=torch.float64)
    h = ((units.double() + 1) * w * valid).sum(1) % 10007.0  # (B,)
    s_idx = torch.arange(1, S + 1, device=dev, dtype=torch.float64)
    key = torch.frac(
        torch.sin(s_idx[None, :] * 12.9898 + h[:, None] * 78.233) * 43758.5
    )
    has = torch.arange(S, device=dev)[None, :] < seg.counts[:, None]
    key = key.masked_fill(~has, float("inf"))  # empty slots stay last
    new = dur.gather(1, key.argsort(dim=1))
    start_pos = (new.cumsum(1) - new).masked_fill(~has, T)  # (B, S); T: none
    starts = torch.zeros(B, T + 1, dtype=torch.bool, device=dev)
    starts.scatter_(1, start_pos, True)
    starts = starts[:, :T] & valid
    seg_ids = (starts.long().cumsum(1) - 1).masked_fill(~valid, -1)
    return Segmentation(
        seg_ids=seg_ids,
        counts=starts.sum(1),
        starts=starts,
        no_boundary=seg.no_boundary,
    )


class _CompressFrontendBase(AbsFrontend):
    """Shared part: ``<sos>`` stripping, id checks and the cross-attention fusion."""

    def __init__(
        self,
        input_size: int,
        strip_sos: bool,
        compressor_conf: dict,
    ):
        super().__init__()
        self.input_size = input_size
        self.sos = input_size - 1
        self.strip_sos = strip_sos
        self.compressor = CrossAttentionCompressor(
            vocab_size=input_size, **compressor_conf
        )
        # statistics of the last forward call (for logging / VC duration restoring)
        self.last_durations: Optional[torch.Tensor] = None
        self.last_num_units: int = 0
        self.last_num_segments: int = 0

    def output_size(self) -> int:
        return self.compressor.output_size()

    def _units(
        self, input: torch.Tensor, input_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Drop the leading ``<sos>`` the MT model prepends; check ids and lengths."""
        if input.dim() != 2:
            raise ValueError(
                f"expected unit ids (B, T), got shape {tuple(input.shape)}"
            )
        if (
            self.strip_sos
            and input.size(1) > 0
            and bool((input[:, 0] == self.sos).all())
        ):
            input, input_lengths = input[:, 1:], input_lengths - 1
        if bool((input_lengths <= 0).any()):
            bad = torch.nonzero(input_lengths <= 0).flatten().tolist()
            raise ValueError(f"empty unit sequence(s) at batch index {bad}")
        T = int(input_lengths.max())
        input = input[:, :T]
        valid = torch.arange(T, device=input.device)[None, :] < input_lengths[:, None]
        bad = valid & ((input < 0) | (input >= self.input_size))
        if bool(bad.any()):
            b, t = torch.nonzero(bad)[0].tolist()
            raise ValueError(
                f"unit id {int(input[b, t])} (batch index {b}, position {t}) is "
                f"outside the vocabulary [0, {self.input_size})"
            )
        return input.masked_fill(~valid, 0), input_lengths

    def _compress(self, units, lengths, seg_ids, counts):
        out, out_lengths, durations = self.compressor(units, lengths, seg_ids, counts)
        self.last_durations = durations.detach()
        self.last_num_units = int(lengths.sum())
        self.last_num_segments = int(counts.sum())
        return out, out_lengths


class EntropyCompressFrontend(_CompressFrontendBase):
    """Entropy-segmented cross-attention compression of unit ids.

    Args:
        input_size: source vocabulary size (given by the task).
        lm_train_config: the unit LM's config.yaml (from ``espnet2.bin.lm_train``).
        lm_file: the unit LM's checkpoint (.pth).
        token_list: the frontend's (= the task's source) token list, a file or a list;
            must equal the LM's. ``espnet2_ext``'s MT task fills it in from
            ``--src_token_list``.
        rule: ``global`` | ``relative`` | ``combined``.
        threshold: entropy threshold theta (nats).
        rel_threshold: entropy-jump threshold theta_r (nats).
        max_len: longest segment in units (None: unlimited).
        min_len: shortest segment in units.
        max_len_mode: ``split`` (merge short segments, then split long ones into
            near-equal pieces; needs ``max_len >= 2 * min_len - 1``) | ``cut`` (one
            greedy pass: the next start is the first rule start at least ``min_len``
            units on, else the unit ``max_len`` on; e.g. ``min_len 3, max_len 4``:
            fixed pooling's lengths at 15/s, the rule choosing between them).
        lm_window: LM context in tokens; longer sequences use overlapping windows.
            None: the longest sequence the LM was trained on (from its training shape
            file; the calibration stage writes the number into the config).
        lm_overlap: left context kept between windows (None: half the window).
        lm_dtype: compute dtype of the frozen LM: ``float32`` | ``bfloat16``
            (``torch.autocast`` around the LM forward, CPU or CUDA).
        entropy_cache: keep each utterance's entropies (keyed by its unit ids) and
            reuse them in later epochs instead of running the frozen LM again
            (:class:`~espnet2_ext.entropy.cache.EntropyCache`); results are identical.
        entropy_cache_max_units: bound of the cache in units (0: unlimited).
        shuffle_lengths: a control, not a method: each utterance keeps the lengths of
            its entropy segments in an order permuted by a hash of its units (the
            same at training and inference), so the cut positions are lost and only
            the length distribution stays (:func:`shuffle_segment_lengths`).
        snap_to_unit_start: move each start of the rule back to the first frame of
            the run of equal units it falls in (``segment``).
        lm_dedup: the unit LM was trained on deduplicated units (runs of equal units
            as one token, GSLM's input): the entropy is taken over the deduplicated
            sequence, every frame of a run carries its run's value
            (:meth:`UnitLM.run_entropy`), and a start falls on the run's first frame
            (``snap_to_unit_start`` implied). ``min_len`` / ``max_len`` stay in frames.
        strip_sos: drop the ``<sos/eos>`` the MT model prepends.
        d_model, num_heads, local_layers, local_ffn, ffn, num_queries, pool,
        max_position, dropout, scale_position, duration_embed, context_layers,
        context_window: see ``CrossAttentionCompressor``.
    """

    @typechecked
    def __init__(
        self,
        input_size: int,
        lm_train_config: Union[str, Path],
        lm_file: Union[str, Path],
        token_list: Union[str, Path, List[str], None] = None,
        rule: str = "global",
        threshold: Optional[float] = None,
        rel_threshold: Optional[float] = None,
        max_len: Optional[int] = 10,
        min_len: int = 1,
        lm_window: Optional[int] = None,
        lm_overlap: Optional[int] = None,
        strip_sos: bool = True,
        d_model: int = 256,
        num_heads: int = 4,
        local_layers: int = 1,
        local_ffn: int = 1024,
        ffn: int = 1024,
        num_queries: int = 1,
        pool: str = "mean",
        max_position: int = 64,
        dropout: float = 0.1,
        scale_position: bool = False,
        duration_embed: bool = False,
        context_layers: int = 0,
        context_window: int = 4,
        lm_dtype: str = "float32",
        entropy_cache: bool = False,
        entropy_cache_max_units: int = 0,
        shuffle_lengths: bool = False,
        snap_to_unit_start: bool = False,
        lm_dedup: bool = False,
        max_len_mode: str = "split",
    ):
        check_rule(rule, threshold, rel_threshold)
        check_lengths(min_len, max_len, max_len_mode)
        super().__init__(
            input_size,
            strip_sos,
            dict(
                d_model=d_model,
                num_heads=num_heads,
                local_layers=local_layers,
                local_ffn=local_ffn,
                ffn=ffn,
                num_queries=num_queries,
                pool=pool,
                max_position=max_position,
                dropout=dropout,
                scale_position=scale_position,
                duration_embed=duration_embed,
                context_layers=context_layers,
                context_window=context_window,
            ),
        )
        lm = UnitLM.from_files(
            lm_train_config,
            lm_file,
            window=lm_window,
            overlap=lm_overlap,
            dtype=lm_dtype,
        )
        if token_list is not None:
            lm.check_token_list(read_token_list(token_list))
        else:
            logger.warning(
                "entropy_compress: no token_list given; only the vocabulary size is "
                "checked against the unit LM"
            )
        if lm.vocab_size != input_size:
            raise UnitLMError(
                f"the source vocabulary has {input_size} tokens but the unit LM has "
                f"{lm.vocab_size}; they must share one token list"
            )
        self._lm = [lm]  # a list: keeps the frozen LM out of the module tree
        self.rule, self.threshold, self.rel_threshold = rule, threshold, rel_threshold
        self.max_len, self.min_len = max_len, min_len
        self.max_len_mode = max_len_mode
        self.shuffle_lengths = shuffle_lengths
        self.lm_dedup = lm_dedup
        self.snap_to_unit_start = snap_to_unit_start or lm_dedup
        self.entropy_cache = (
            EntropyCache(entropy_cache_max_units) if entropy_cache else None
        )

    @property
    def unit_lm(self) -> UnitLM:
        return self._lm[0]

    def _apply(self, fn, *args, **kwargs):
        # move/cast the frozen LM with the frontend (.to(device), .half(), ...)
        super()._apply(fn, *args, **kwargs)
        self._lm[0]._apply(fn, *args, **kwargs)
        return self

    def segment(self, units: torch.Tensor, lengths: torch.Tensor):
        """Units (B, T) -> (entropy (B, T), :class:`Segmentation`)."""
        lm_device = self.unit_lm.device
        if units.device != lm_device:
            raise RuntimeError(
                f"entropy_compress: the input is on {units.device} but the frozen unit "
                f"LM is on {lm_device}. torch.nn.DataParallel replicas share the one "
                "LM (it is not a registered submodule); train multi-GPU with DDP, "
                "ESPnet's --multiprocessing_distributed true (what asr.sh passes)"
            )
        score = self.unit_lm.run_entropy if self.lm_dedup else self.unit_lm.entropy
        if self.entropy_cache is not None:
            h = self.entropy_cache.entropy(units, lengths, score)
        else:
            h = score(units, lengths)
        seg = segment(
            h,
            lengths,
            rule=self.rule,
            threshold=self.threshold,
            rel_threshold=self.rel_threshold,
            max_len=self.max_len,
            min_len=self.min_len,
            units=units,
            snap_to_unit_start=self.snap_to_unit_start,
            max_len_mode=self.max_len_mode,
        )
        if self.shuffle_lengths:
            seg = shuffle_segment_lengths(units, lengths, seg)
        return h, seg

    def segmentation(self, units: torch.Tensor, lengths: torch.Tensor) -> Segmentation:
        """Units (B, T) -> :class:`Segmentation` (what :meth:`segment` gives)."""
        return self.segment(units, lengths)[1]

    def forward(
        self, input: torch.Tensor, input_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Unit ids (B, T) with lengths (B,) -> segment vectors (B, S*k, D) and (B,)."""
        units, lengths = self._units(input, input_lengths)
        _, seg = self.segment(units, lengths)
        return self._compress(units, lengths, seg.seg_ids, seg.counts)


class FixedPoolFrontend(_CompressFrontendBase):
    """Cross-attention fusion over non-overlapping windows of ``pool_size`` units.

    A fractional ``pool_size`` p gives windows of floor(p) or ceil(p) units: unit t
    belongs to segment floor(t / p), so an utterance of L units has ceil(L / p)
    segments and the rate is exactly 50 / p per second at 50 Hz (e.g. 3.333 -> 15/s,
    to match another method's measured rate).

    Args:
        input_size: source vocabulary size (given by the task).
        pool_size: units per segment, >= 1, may be fractional (the last segment may
            be shorter).
        token_list: accepted for symmetry with ``entropy_compress``; unused.
        other args: see ``CrossAttentionCompressor``.
    """

    @typechecked
    def __init__(
        self,
        input_size: int,
        pool_size: Union[int, float] = 4,
        token_list: Union[str, Path, List[str], None] = None,
        strip_sos: bool = True,
        d_model: int = 256,
        num_heads: int = 4,
        local_layers: int = 1,
        local_ffn: int = 1024,
        ffn: int = 1024,
        num_queries: int = 1,
        pool: str = "mean",
        max_position: int = 64,
        dropout: float = 0.1,
        scale_position: bool = False,
        duration_embed: bool = False,
        context_layers: int = 0,
        context_window: int = 4,
    ):
        if pool_size < 1:
            raise ValueError(f"pool_size must be >= 1, got {pool_size}")
        super().__init__(
            input_size,
            strip_sos,
            dict(
                d_model=d_model,
                num_heads=num_heads,
                local_layers=local_layers,
                local_ffn=local_ffn,
                ffn=ffn,
                num_queries=num_queries,
                pool=pool,
                max_position=max_position,
                dropout=dropout,
                scale_position=scale_position,
                duration_embed=duration_embed,
                context_layers=context_layers,
                context_window=context_window,
            ),
        )
        self.pool_size = pool_size

    def _window(self, t: torch.Tensor) -> torch.Tensor:
        """Window index floor(t / pool_size) of int unit positions ``t`` (any shape)."""
        if float(self.pool_size).is_integer():
            return torch.div(t, int(self.pool_size), rounding_mode="floor")
        # float64 and a small tolerance, so that t = k * p lands in window k exactly
        return torch.floor(t.double() / self.pool_size + 1e-9).long()

    def forward(
        self, input: torch.Tensor, input_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Unit ids (B, T) with lengths (B,) -> segment vectors (B, S*k, D) and (B,)."""
        units, lengths = self._units(input, input_lengths)
        seg = self.segmentation(units, lengths)
        return self._compress(units, lengths, seg.seg_ids, seg.counts)

    def segmentation(self, units: torch.Tensor, lengths: torch.Tensor) -> Segmentation:
        """Units (B, T) -> :class:`Segmentation` of the windows."""
        B, T = units.shape
        t = torch.arange(T, device=units.device)
        seg_ids = self._window(t).expand_as(units)
        valid = t[None, :] < lengths[:, None]
        seg_ids = seg_ids.masked_fill(~valid, -1)
        # segments = window index of the last unit + 1 (0 for an empty sequence)
        counts = torch.where(
            lengths > 0, self._window(lengths - 1) + 1, torch.zeros_like(lengths)
        )
        starts = torch.zeros_like(valid)
        starts[:, 0] = True
        starts[:, 1:] = seg_ids[:, 1:] != seg_ids[:, :-1]
        return Segmentation(
            seg_ids=seg_ids,
            counts=counts,
            starts=starts & valid,
            no_boundary=torch.zeros(B, dtype=torch.bool, device=units.device),
        )


class OraclePoolFrontend(_CompressFrontendBase):
    """Cross-attention fusion over segments that start at given unit positions.

    A control, not a method: the starts come from outside the units, e.g. the true
    phone or word starts of a forced alignment converted to unit positions
    (``local/oracle_starts.py`` of the mini_synth recipe), so that a model trained on
    them bounds what any boundary rule over the same units can reach. ESPnet hands the
    frontend unit ids without utterance ids, so utterances are recognised by their
    content (the hash of :class:`~espnet2_ext.entropy.cache.EntropyCache`): every
    utterance the frontend will see must be in ``units_files`` and ``starts_file``.

    Args:
        input_size: source vocabulary size (given by the task).
        starts_file: Kaldi-style text ``utt t1 t2 ...``: the unit positions (> 0)
            where a segment starts; position 0 always starts one.
        units_files: unit dumps (``utt tok tok ...``) of every set the model sees.
        token_list: the source token list (file or list; filled in by the task).
        max_len: longest segment in units (None: unlimited); longer ones are split
            into near-equal pieces as the entropy rules do.
        other args: see ``CrossAttentionCompressor``.
    """

    @typechecked
    def __init__(
        self,
        input_size: int,
        starts_file: Union[str, Path],
        units_files: List[str],
        token_list: Union[str, Path, List[str], None] = None,
        max_len: Optional[int] = None,
        strip_sos: bool = True,
        d_model: int = 256,
        num_heads: int = 4,
        local_layers: int = 1,
        local_ffn: int = 1024,
        ffn: int = 1024,
        num_queries: int = 1,
        pool: str = "mean",
        max_position: int = 64,
        dropout: float = 0.1,
        scale_position: bool = False,
        duration_embed: bool = False,
        context_layers: int = 0,
        context_window: int = 4,
    ):
        check_lengths(1, max_len)
        if token_list is None:
            raise ValueError("oracle_pool needs the source token_list")
        super().__init__(
            input_size,
            strip_sos,
            dict(
                d_model=d_model,
                num_heads=num_heads,
                local_layers=local_layers,
                local_ffn=local_ffn,
                ffn=ffn,
                num_queries=num_queries,
                pool=pool,
                max_position=max_position,
                dropout=dropout,
                scale_position=scale_position,
                duration_embed=duration_embed,
                context_layers=context_layers,
                context_window=context_window,
            ),
        )
        self.max_len = max_len
        self._hash = EntropyCache()
        self._starts = self._read(starts_file, units_files, read_token_list(token_list))

    def _read(self, starts_file, units_files, tokens: List[str]) -> dict:
        index = {t: i for i, t in enumerate(tokens)}
        starts = {}
        for line in Path(starts_file).read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if parts:
                starts[parts[0]] = [int(x) for x in parts[1:]]
        table, missing = {}, 0
        for f in units_files:
            for line in Path(f).read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if not parts:
                    continue
                if parts[0] not in starts:
                    missing += 1
                    continue
                unk = index.get("<unk>", 1)
                ids = torch.tensor([[index.get(u, unk) for u in parts[1:]]])
                (key,) = self._hash.keys(ids, torch.tensor([ids.size(1)]))
                table[key] = starts[parts[0]]
        logger.info(
            "oracle_pool: %d utterances with starts (%s); %d in the unit dumps have "
            "none and cannot be used",
            len(table),
            starts_file,
            missing,
        )
        return table

    def segmentation(self, units: torch.Tensor, lengths: torch.Tensor):
        """Units (B, T) -> :class:`Segmentation` from the given starts."""
        B, T = units.shape
        keys = self._hash.keys(units, lengths)
        rows, cols = [], []
        for b, k in enumerate(keys):  # a dictionary look-up per utterance
            st = self._starts.get(k)
            if st is None:
                raise ValueError(
                    f"oracle_pool: batch index {b} ({int(lengths[b])} units) is in "
                    "none of units_files; every utterance needs its starts"
                )
            rows += [b] * len(st)
            cols += st
        valid = torch.arange(T, device=units.device)[None, :] < lengths[:, None]
        starts = torch.zeros(B, T, dtype=torch.bool, device=units.device)
        if rows:
            starts[torch.tensor(rows), torch.tensor(cols).clamp(max=T - 1)] = True
        starts[:, 0] = True
        starts = starts & valid
        if self.max_len is not None:
            starts = split_long(starts, valid, self.max_len)
        seg_ids = (starts.long().cumsum(1) - 1).masked_fill(~valid, -1)
        return Segmentation(
            seg_ids=seg_ids,
            counts=starts.sum(1),
            starts=starts,
            no_boundary=torch.zeros(B, dtype=torch.bool, device=units.device),
        )

    def forward(
        self, input: torch.Tensor, input_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Unit ids (B, T) with lengths (B,) -> segment vectors (B, S*k, D) and (B,)."""
        units, lengths = self._units(input, input_lengths)
        seg = self.segmentation(units, lengths)
        return self._compress(units, lengths, seg.seg_ids, seg.counts)
