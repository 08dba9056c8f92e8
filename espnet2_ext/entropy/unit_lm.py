"""Frozen unit language model: per-position predictive entropy of discrete units.

The LM is one trained with ESPnet's own LM task (``espnet2.bin.lm_train``). Its token
list is the shared unit token list (ESPnet orders it by frequency); id 0 is padding
(``<blank>``) and the last id is ``<sos/eos>``.
"""

import contextlib
import logging
import math
from pathlib import Path
from typing import List, Optional, Sequence, Union

import torch
from typeguard import typechecked

from espnet2_ext.compress.dedup import dedup

logger = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16")


class UnitLMError(RuntimeError):
    """Raised for a missing/unreadable LM, or input the LM cannot score."""


def read_token_list(token_list: Union[str, Path, Sequence[str]]) -> List[str]:
    """Return a token list given as a list or as a file with one token per line."""
    if isinstance(token_list, (str, Path)):
        path = Path(token_list)
        if not path.is_file():
            raise UnitLMError(f"token list file not found: {path}")
        with path.open(encoding="utf-8") as f:
            return [line.rstrip("\n").rstrip() for line in f if line.strip()]
    return list(token_list)


def add_lm_window_options(parser) -> None:
    """``--lm_window`` / ``--lm_overlap`` of the command-line tools that score units
    with a :class:`UnitLM` (None: its longest training sequence / half the window)."""
    parser.add_argument(
        "--lm_window",
        type=int,
        default=None,
        help="default: the longest sequence the LM was trained on (+1 for <sos>)",
    )
    parser.add_argument(
        "--lm_overlap", type=int, default=None, help="default: half the window"
    )


_HOW = (
    "set lm_window (tokens): frontend_conf.lm_window in the training config, or "
    "--lm_window of calibrate_threshold, plot_entropy or boundary_eval"
)


def longest_training_sequence(args, cfg: Path) -> int:
    """The longest sequence an ESPnet LM was trained on, plus its ``<sos>``: the max of
    its ``train_shape_file`` (read relative to the working directory, as the recipe
    trained it).

    Raises:
        UnitLMError: the shape file is not readable (give ``lm_window`` explicitly).
    """
    files = getattr(args, "train_shape_file", None) or []
    try:
        longest = 0
        for f in files:
            with open(f, encoding="utf-8") as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) >= 2:
                        longest = max(longest, int(parts[1].split(",")[0]))
    except OSError as e:
        raise UnitLMError(
            "lm_window not given and the LM's training shape file is not readable "
            f"({e}) for the LM of {cfg}: give lm_window; " + _HOW
        ) from e
    if longest == 0:
        raise UnitLMError(
            f"lm_window not given and {cfg} names no training shape file: give "
            "lm_window; " + _HOW
        )
    return longest + 1


class UnitLM(torch.nn.Module):
    """A frozen causal unit LM that returns predictive entropies.

    ``entropy(units, lengths)[b, t]`` is ``H_t = -sum_v p(v | u_<t) log p(v | u_<t)``
    (nats): the uncertainty about ``u_t`` before it is seen; position 0 is predicted
    from ``<sos>`` alone. A sequence is scored whole when it fits in ``window`` (the
    LM has no hard context limit; the recipes set ``window`` to the longest sequence
    the LM was trained on, see :meth:`from_files`, so that the LM never sees a shape
    it was not trained on). Longer sequences are scored with overlapping windows: every
    position keeps at least ``overlap`` units of left context, and nothing is truncated.
    Memory is bounded by scoring at most ``max_attention_elements // L**2`` rows of
    length L per LM call (and at most ``max_windows_per_batch``).

    The module is frozen: eval mode, ``requires_grad=False``, scored under
    ``torch.no_grad()``.

    Args:
        lm: an ``espnet2.lm.abs_model.AbsLM`` (e.g. ``TransformerLM``) whose ``forward``
            maps ids (B, L) to logits (B, L, V); id 0 is padding.
        token_list: the LM's token list (V entries, the last one ``<sos/eos>``).
        window: LM context in tokens (including the ``<sos>`` of the first window).
        overlap: left context kept when a window moves on (0 <= overlap < window).
        max_windows_per_batch: rows (utterances or windows) scored per LM call at most.
        max_attention_elements: bound on rows x L x L per LM call (one attention map
            per head and layer; 2**27 floats = 512 MiB in float32).
        dtype: compute dtype of the LM forward: ``float32``, or ``bfloat16`` (the
            forward runs under ``torch.autocast`` on the input's device; the entropy
            is computed from the logits in float32).
    """

    @typechecked
    def __init__(
        self,
        lm: torch.nn.Module,
        token_list: Sequence[str],
        window: int = 256,
        overlap: int = 128,
        max_windows_per_batch: int = 256,
        dtype: str = "float32",
        max_attention_elements: int = 2**27,
    ):
        super().__init__()
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        if window < 2:
            raise ValueError(f"window must be >= 2, got {window}")
        if not 0 <= overlap < window:
            raise ValueError(f"need 0 <= overlap < window, got {overlap=} {window=}")
        self.lm = lm
        self.token_list = list(token_list)
        self.vocab_size = len(self.token_list)
        self.sos = self.vocab_size - 1
        self.window = window
        self.overlap = overlap
        self.max_windows_per_batch = max_windows_per_batch
        self.max_attention_elements = max_attention_elements
        self.dtype = dtype
        self.freeze()

    @property
    def device(self) -> torch.device:
        """Where the LM's weights are."""
        return next(self.lm.parameters()).device

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_files(
        cls,
        lm_train_config: Union[str, Path],
        lm_file: Union[str, Path],
        device: str = "cpu",
        **kwargs,
    ) -> "UnitLM":
        """Load an LM trained by ``espnet2.bin.lm_train`` (its config.yaml and .pth).

        The checkpoint is read with ``torch.load(weights_only=True)`` (no pickled code
        runs) and must fit the LM built from the config exactly: missing keys,
        unexpected keys or different shapes raise :class:`UnitLMError` (ESPnet's own
        loader would accept a checkpoint of another model and leave the LM random).
        """
        from espnet2_ext.compat import LMTask
        from espnet2_ext.utils.checkpoint import build_model_from_file

        cfg, ckpt = Path(lm_train_config), Path(lm_file)
        for what, p in (("LM config", cfg), ("LM checkpoint", ckpt)):
            if not p.is_file():
                raise UnitLMError(f"{what} not found: {p}")
        try:
            model, args = build_model_from_file(
                LMTask, cfg, ckpt, device, what="unit LM checkpoint"
            )
        except Exception as e:  # not a state dict, wrong keys, wrong shapes, bad yaml
            raise UnitLMError(
                f"cannot load the unit LM from config={cfg} checkpoint={ckpt}: "
                f"{type(e).__name__}: {e}"
            ) from e
        if kwargs.get("window") is None:
            kwargs["window"] = longest_training_sequence(args, cfg)
            logger.info(
                "unit LM window: %d tokens (its longest training sequence + <sos>)",
                kwargs["window"],
            )
        if kwargs.get("overlap") is None:
            kwargs["overlap"] = kwargs["window"] // 2
        return cls(model.lm, args.token_list, **kwargs)

    def freeze(self) -> None:
        for p in self.lm.parameters():
            p.requires_grad_(False)
        self.lm.eval()

    def train(self, mode: bool = True) -> "UnitLM":
        """The LM always stays in eval mode (no dropout), whatever the caller asks."""
        super().train(False)
        return self

    # ------------------------------------------------------------------ checks
    def check_token_list(self, token_list: Sequence[str]) -> None:
        """Raise if ``token_list`` is not exactly the LM's token list."""
        other = list(token_list)
        if other == self.token_list:
            return
        if len(other) != len(self.token_list):
            detail = f"sizes differ: {len(other)} vs the LM's {len(self.token_list)}"
        else:
            i = next(
                i for i, (a, b) in enumerate(zip(other, self.token_list)) if a != b
            )
            detail = (
                f"first difference at id {i}: {other[i]!r} vs the LM's "
                f"{self.token_list[i]!r}"
            )
        raise UnitLMError(
            "the frontend's token list differs from the unit LM's token list "
            f"({detail}); train the LM and the model with one shared token list"
        )

    def check_units(self, units: torch.Tensor, lengths: torch.Tensor) -> None:
        """Raise for empty sequences or ids outside the LM vocabulary."""
        if units.dim() != 2 or lengths.dim() != 1 or units.size(0) != lengths.size(0):
            raise UnitLMError(
                f"expected units (B, T) and lengths (B,), got {tuple(units.shape)} "
                f"and {tuple(lengths.shape)}"
            )
        if units.size(0) == 0:
            raise UnitLMError("empty batch")
        if bool((lengths <= 0).any()):
            bad = torch.nonzero(lengths <= 0).flatten().tolist()
            raise UnitLMError(f"empty unit sequence(s) at batch index {bad}")
        if int(lengths.max()) > units.size(1):
            raise UnitLMError(
                f"a length ({int(lengths.max())}) exceeds the padded size "
                f"{units.size(1)}"
            )
        valid = _valid_mask(lengths, units.size(1))
        bad = valid & ((units < 0) | (units >= self.vocab_size))
        if bool(bad.any()):
            b, t = torch.nonzero(bad)[0].tolist()
            raise UnitLMError(
                f"unit id {int(units[b, t])} at batch index {b}, position {t} is "
                f"outside the LM vocabulary [0, {self.vocab_size})"
            )

    # ------------------------------------------------------------------ scoring
    @torch.no_grad()
    def _entropy_of(self, x: torch.Tensor) -> torch.Tensor:
        """Entropy of the next-token distribution at each position.

        x: (N, L) -> (N, L).
        """
        if self.dtype == "bfloat16":
            ctx = torch.autocast(x.device.type, dtype=torch.bfloat16)
        else:
            ctx = contextlib.nullcontext()  # float32: exactly as without the option
        with ctx:
            logits, _ = self.lm(x, None)
        # entr(p) = -p log p with entr(0) = 0: a -inf logit (p = 0) contributes 0, where
        # exp(logp) * logp would give 0 * -inf = NaN
        return torch.special.entr(torch.softmax(logits.float(), dim=-1)).sum(-1)

    @torch.no_grad()
    def run_entropy(self, units: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Entropy of an LM over deduplicated units, given at every frame of a run.

        For an LM trained on units with consecutive repeats removed (GSLM's and
        textless-lib's input): the units are deduplicated, each run's first unit is
        scored given the previous runs, and every frame of the run carries that value.

        Args:
            units: (B, T) unit ids (50 Hz, repeats included); padding is ignored.
            lengths: (B,) valid lengths.

        Returns:
            (B, T) float entropies in nats, constant over each run; padded positions 0.
        """
        ids, n, run = dedup(units, lengths, return_runs=True)
        h = self.entropy(ids, n)
        valid = _valid_mask(lengths, units.size(1))
        return torch.gather(h, 1, run).masked_fill(~valid, 0.0)

    def entropy(self, units: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Predictive entropy of each unit given its left context.

        Args:
            units: (B, T) unit ids in the LM's token list; padding is ignored.
            lengths: (B,) valid lengths.

        Returns:
            (B, T) float entropies in nats; padded positions are 0.
        """
        self.check_units(units, lengths)
        B, T = units.shape
        valid = _valid_mask(lengths, T)
        # LM input: <sos> u_1 .. u_{T-1}; padding id 0 (masked by the LM).
        x = torch.zeros(B, T, dtype=torch.long, device=units.device)
        x[:, 0] = self.sos
        x[:, 1:] = torch.where(
            valid[:, :-1], units[:, :-1], torch.zeros_like(units[:, :-1])
        )
        W, ov = self.window, self.overlap
        if T <= W:
            return self._finite(self._score_rows(x, lengths), valid)

        hop = W - ov
        K = math.ceil((T - W) / hop) + 1  # windows needed for the longest sequence
        padded = torch.nn.functional.pad(x, (0, (K - 1) * hop + W - T))
        wins = padded.unfold(1, W, hop)  # (B, K, W)
        starts = torch.arange(K, device=x.device) * hop  # (K,)
        # windows that start past an utterance's end hold only padding: skip them
        needed = starts[None, :] < lengths[:, None]  # (B, K)
        win_len = (lengths[:, None] - starts[None, :]).clamp(min=0, max=W)  # (B, K)
        h_rows = self._score_rows(wins[needed], win_len[needed])  # (N, W)
        h_win = x.new_zeros((B, K, W), dtype=h_rows.dtype)
        h_win[needed] = h_rows
        # position i is read from window 0 if i < W, else from window (i - ov) // hop,
        # which gives it at least ov units of left context.
        pos = torch.arange(T, device=x.device)
        k_of = torch.where(
            pos < W,
            torch.zeros_like(pos),
            torch.div(pos - ov, hop, rounding_mode="floor"),
        )
        off = pos - k_of * hop
        h = h_win[:, k_of, off]  # (B, T)
        return self._finite(h, valid)

    @staticmethod
    def _finite(h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Zero the padding; raise if a valid position's entropy is NaN or infinite
        (it would silently mean "no boundary" and break calibration)."""
        bad = valid & ~torch.isfinite(h)
        if bool(bad.any()):
            b, t = (int(i) for i in bad.nonzero()[0])
            raise UnitLMError(
                f"the unit LM gave {int(bad.sum())} non-finite entropies (first at "
                f"batch index {b}, position {t}): its logits hold NaN, e.g. a broken "
                "checkpoint or an overflow in reduced precision (try lm_dtype: "
                "float32)"
            )
        return h.masked_fill(~valid, 0.0)

    def _score_rows(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Score rows (N, L) in chunks of ``max_windows_per_batch``; pads zeroed."""
        out = []
        L_all = max(int(lengths.max()), 1) if lengths.numel() else 1
        step = max(
            1,
            min(
                self.max_windows_per_batch,
                self.max_attention_elements // (L_all * L_all),
            ),
        )
        for i in range(0, x.size(0), step):
            xi = x[i : i + step]
            li = lengths[i : i + step]
            # trim to the longest row of the chunk: causal attention makes the right
            # padding irrelevant, so this only saves work
            L = int(li.max())
            xi = xi[:, :L].masked_fill(~_valid_mask(li, L), 0)
            hi = self._entropy_of(xi)
            out.append(torch.nn.functional.pad(hi, (0, x.size(1) - L)))
        return torch.cat(out, 0)


def _valid_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(B,) lengths -> (B, T) bool, True at valid positions."""
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


def write_lm_experiment(
    out_dir: Union[str, Path],
    token_list: Sequence[str],
    lm_conf: Optional[dict] = None,
    lm: str = "transformer",
    seed: int = 0,
    train_shape_file: Optional[Sequence[str]] = None,
) -> tuple:
    """Write a randomly initialised unit LM exactly as ``espnet2.bin.lm_train`` lays it
    out (``config.yaml`` + a ``.pth`` state dict), for benchmarks and tests.
    ``train_shape_file``: recorded in the config as if the LM had been trained on it
    (its longest sequence sets the default scoring window).

    Returns:
        (config path, checkpoint path).
    """
    import yaml

    from espnet2_ext.compat import LMTask

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokens.txt").write_text("\n".join(token_list) + "\n", encoding="utf-8")
    args = LMTask.get_parser().parse_args(
        ["--token_list", str(out / "tokens.txt"), "--lm", lm, "--output_dir", str(out)]
    )
    args.lm_conf = dict(lm_conf or {})
    if train_shape_file:
        args.train_shape_file = [str(f) for f in train_shape_file]
    torch.manual_seed(seed)
    model = LMTask.build_model(args)  # turns args.token_list into a list
    cfg, ckpt = out / "config.yaml", out / "lm.pth"
    with cfg.open("w", encoding="utf-8") as f:
        yaml.safe_dump(vars(args), f, sort_keys=False)
    torch.save(model.state_dict(), ckpt)
    return cfg, ckpt
