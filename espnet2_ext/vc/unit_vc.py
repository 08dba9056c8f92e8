"""Unit-to-mel voice conversion: ``tts: unit_vc`` in ESPnet's TTS task.

The "text" of the TTS task is the sequence of 50 Hz unit ids (the task's token list is
the unit token list, ``--token_type word``); the target "speech" is the waveform, from
which the task's ``feats_extract: fbank`` (fs 16000, hop 320) computes the 80-bin
log-mel, so that one unit is one mel frame (with ``feats_extract: world``,
:class:`espnet2_ext.vc.world.WorldFeats`, the target is the coded WORLD spectral
envelope on the same 20 ms frame grid instead, and "mel" below stands for it)::

    unit ids (B, T)
      -> frontend: dense | dedup | fixed_pool | entropy  -> segments (B, S, D)
                   + each segment's duration in units      (B, S), sum = T
      -> speaker conditioning (d-vector ``spembs`` and/or speaker-id table ``sids``)
      -> expansion of each segment vector to its duration  -> (B, T, D)
      -> non-autoregressive decoder (ESPnet Conformer / Transformer encoder blocks)
      -> linear -> log-mel (B, T, odim)

Durations are a property of the input, not a prediction: the dense frontend has one
unit per vector, ``dedup`` the run lengths of repeated units, ``fixed_pool`` and
``entropy`` the units of each segment. Inference therefore computes them itself from
the unit ids and never needs ESPnet's teacher-forcing path (which is the only one
through which ``ESPnetTTSModel.inference`` passes durations on). The output always has
exactly one mel frame per input unit.

No ``<sos/eos>`` is involved: ESPnet's TTS data path (``CommonPreprocessor`` and
``CommonCollateFn`` with int padding 0) hands the model the bare token ids, and unlike
ESPnet's TTS models this one appends no ``<eos>`` itself. The compressing frontends
are built with ``strip_sos=False`` accordingly.

Frame count of the target: the units follow the project's 50 Hz formula
``T_u = floor((N - 400) / 320) + 1`` (frame t covers samples [320 t, 320 t + 400),
centre 320 t + 200), while ESPnet's ``fbank`` (centred STFT) gives
``T_mel = floor(N / 320) + 1`` frames centred at 320 j. ``T_mel - T_u`` is 1 or 2.
The target is mel frames ``target_offset .. target_offset + T_u - 1`` (default offset
1: unit t is paired with mel frame t + 1, centred 120 samples from the unit's centre
instead of 200 for frame t); with offset 1 the remaining mel has T_u or T_u + 1 frames,
and a trailing extra frame is dropped. If the mel is shorter than the units (other
features, e.g. ``center: false``), the last predicted frames have no target and are
left out of the loss (mask), never compared against padding. A difference of more than
``max_length_mismatch`` frames means the units and the audio do not belong together
(other frame rate, other audio) and raises an error.
"""

from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from typeguard import typechecked

from espnet2_ext.compat import (
    AbsTTS,
    ConformerEncoder,
    Embedding,
    TransformerEncoder,
    force_gatherable,
)
from espnet2_ext.compress.dedup import DedupEmbedFrontend
from espnet2_ext.compress.frontend import EntropyCompressFrontend, FixedPoolFrontend

FRONTENDS = ("dense", "dedup", "fixed_pool", "entropy")
DECODERS = ("conformer", "transformer")

# decoder defaults; ``decoder_conf`` overrides. They keep an utterance's output
# independent of the padding in its batch: the conformer's convolution module masks
# padded frames, but neither ESPnet encoder passes the mask to a ``conv1d``
# feed-forward (``positionwise_layer_type``), so the feed-forward is ``linear``.
_DECODER_DEFAULTS = dict(
    attention_heads=2,
    linear_units=1024,
    num_blocks=4,
    dropout_rate=0.1,
    positional_dropout_rate=0.1,
    attention_dropout_rate=0.1,
    input_layer="linear",
    positionwise_layer_type="linear",
)
_CONFORMER_DEFAULTS = dict(
    rel_pos_type="latest",
    pos_enc_layer_type="rel_pos",
    selfattention_layer_type="rel_selfattn",
    use_cnn_module=True,
    cnn_module_kernel=7,
)


def run_lengths(
    ids: torch.Tensor, lengths: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Lengths of the runs of equal consecutive ids (what ``dedup`` collapses).

    Args:
        ids: (B, T) token ids.
        lengths: (B,) valid lengths.

    Returns:
        durations: (B, S) run lengths, S = the most runs in the batch (0 past each
            utterance's runs); ``durations.sum(1) == lengths``.
        counts: (B,) runs per utterance (= the deduplicated lengths).
    """
    B, T = ids.shape
    valid = torch.arange(T, device=ids.device)[None, :] < lengths[:, None]
    starts = valid.clone()
    starts[:, 1:] &= ids[:, 1:] != ids[:, :-1]
    counts = starts.sum(1)
    run = (torch.cumsum(starts.long(), 1) - 1).clamp(min=0)
    S = max(int(counts.max()) if B else 0, 1)
    durations = torch.zeros(B, S, dtype=torch.long, device=ids.device)
    durations.scatter_add_(1, run, valid.long())
    return durations, counts


def expand_by_durations(
    x: torch.Tensor, durations: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Repeat each segment vector for its duration (vectorised length regulator).

    Output frame t of utterance b takes the vector of the segment s whose span
    [cum_{s-1}, cum_s) contains t (cum = cumulative durations), found for all frames
    at once with ``torch.searchsorted``; segments of duration 0 get no frame.

    Args:
        x: (B, S, D) segment vectors.
        durations: (B, S) non-negative int durations (0 past each utterance's end).

    Returns:
        (B, T, D) expanded vectors, T = the longest total (zeros past each end), and
        (B,) totals ``durations.sum(1)``.
    """
    if durations.shape != x.shape[:2]:
        raise ValueError(
            f"durations {tuple(durations.shape)} do not match segments "
            f"{tuple(x.shape[:2])}"
        )
    if bool((durations < 0).any()):
        raise ValueError("negative duration")
    B, S, D = x.shape
    durations = durations.long()
    totals = durations.sum(1)
    T = int(totals.max()) if B else 0
    ends = torch.cumsum(durations, 1)
    t = torch.arange(T, device=x.device)[None, :].expand(B, T).contiguous()
    idx = torch.searchsorted(ends, t, right=True).clamp(max=max(S - 1, 0))
    out = x.gather(1, idx[:, :, None].expand(B, T, D))
    valid = t < totals[:, None]
    return out.masked_fill(~valid[:, :, None], 0.0), totals


def _build_frontend(kind: str, idim: int, conf: dict, adim: int) -> torch.nn.Module:
    conf = dict(conf)
    if kind in ("dense", "dedup"):
        conf.setdefault("embed_dim", adim)
        cls = Embedding if kind == "dense" else DedupEmbedFrontend
        return cls(input_size=idim, **conf)
    if conf.pop("strip_sos", False):
        raise ValueError(
            f"frontend {kind}: strip_sos must be false in the TTS task, whose data "
            "path adds no <sos/eos> to the unit ids"
        )
    conf.setdefault("d_model", adim)
    cls = FixedPoolFrontend if kind == "fixed_pool" else EntropyCompressFrontend
    return cls(input_size=idim, strip_sos=False, **conf)


class UnitVC(AbsTTS):
    """Unit-to-mel voice conversion model (non-autoregressive).

    Args:
        idim: vocabulary size (the unit token list, given by the task).
        odim: mel bins (given by the task's ``feats_extract``, 80).
        frontend: ``dense`` (ESPnet's ``embed`` frontend: embedding + positional
            encoding, one vector per unit) | ``dedup`` (repeats removed, the run
            lengths are the durations) | ``fixed_pool`` | ``entropy`` (the
            cross-attention compressors over fixed windows / entropy segments).
        frontend_conf: keyword arguments of the frontend class (``DedupEmbedFrontend``,
            ``FixedPoolFrontend``, ``EntropyCompressFrontend``, or for ``dense``
            ESPnet's ``Embedding``: ``embed_dim``, ``positional_dropout_rate``); the
            vector size (``embed_dim`` / ``d_model``) defaults to ``adim``. For
            ``entropy``: ``lm_train_config``, ``lm_file``, ``threshold`` or the rule's
            thresholds, ...; ``token_list`` is filled in from the task's token list by
            ``espnet2_ext.tasks.tts.UnitVCTTSTask``.
        adim: decoder size.
        decoder: ``conformer`` | ``transformer`` (ESPnet's ``ConformerEncoder`` /
            ``TransformerEncoder`` blocks used as a non-autoregressive decoder).
        decoder_conf: their keyword arguments (``num_blocks``, ``attention_heads``,
            ``linear_units``, ``cnn_module_kernel``, ...), over small defaults (4
            blocks, 2 heads, linear feed-forward of 1024; conformer: convolution
            kernel 7, relative positions). A ``conv1d`` feed-forward is possible but
            not padding-masked by ESPnet's encoders (the last frames of a padded
            utterance then see the padding).
        spks: size of a speaker-id table (``sids``); None or <= 1: none.
        langs: size of a language-id table (``lids``); None or <= 1: none.
        spk_embed_dim: size of the speaker embedding ``spembs`` (Resemblyzer d-vector:
            256); None: none. It is L2-normalised, then projected and added
            (``add``) or concatenated and projected (``concat``).
        spk_embed_integration_type: ``add`` | ``concat``.
        condition_norm: put the speaker on the content's scale: a LayerNorm over the
            frontend's output (every frontend alike) and, for ``add``, a LayerNorm
            over the projected d-vector, so that both have norm about sqrt(adim);
            for ``concat`` the unit d-vector is scaled by sqrt(D) before the
            projection. Without it, ESPnet's dense embedding (scaled by sqrt(D),
            plus positional encoding) has norm ~128 against ~0.6 for the projected
            d-vector, and the compressing frontends (ending in a LayerNorm) ~11.
            False keeps models trained before the option loadable.
        target_offset: leading mel frames dropped from the target (see the module
            docstring: 1 pairs unit t with ESPnet fbank frame t + 1).
        max_length_mismatch: largest tolerated |mel frames (after the offset) -
            units|; None: no check.
        l1_weight, mse_weight: weights of the L1 and MSE losses on the mel.
    """

    @typechecked
    def __init__(
        self,
        idim: int,
        odim: int,
        frontend: str = "dense",
        frontend_conf: Optional[Dict] = None,
        adim: int = 256,
        decoder: str = "conformer",
        decoder_conf: Optional[Dict] = None,
        spks: Optional[int] = None,
        langs: Optional[int] = None,
        spk_embed_dim: Optional[int] = None,
        spk_embed_integration_type: str = "add",
        condition_norm: bool = False,
        target_offset: int = 1,
        max_length_mismatch: Optional[int] = 4,
        l1_weight: float = 1.0,
        mse_weight: float = 1.0,
    ):
        super().__init__()
        if frontend not in FRONTENDS:
            raise ValueError(f"frontend must be one of {FRONTENDS}, got {frontend!r}")
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        if spk_embed_integration_type not in ("add", "concat"):
            raise ValueError(
                "spk_embed_integration_type must be 'add' or 'concat', got "
                f"{spk_embed_integration_type!r}"
            )
        if target_offset < 0:
            raise ValueError(f"target_offset must be >= 0, got {target_offset}")
        self.idim, self.odim = idim, odim
        self.frontend_type = frontend
        self.target_offset = target_offset
        self.max_length_mismatch = max_length_mismatch
        self.l1_weight, self.mse_weight = l1_weight, mse_weight

        self.frontend = _build_frontend(frontend, idim, frontend_conf or {}, adim)
        D = self.frontend.output_size()
        # k vectors per segment (compressor num_queries): concatenated and projected
        k = getattr(getattr(self.frontend, "compressor", None), "num_queries", 1)
        self.num_queries = k
        self.query_merge = torch.nn.Linear(k * D, D) if k > 1 else None

        self.spks = None
        if spks is not None and spks > 1:
            self.spks = spks
            self.sid_emb = torch.nn.Embedding(spks, D)
        self.langs = None
        if langs is not None and langs > 1:
            self.langs = langs
            self.lid_emb = torch.nn.Embedding(langs, D)
        self.spk_embed_dim = None
        self.spk_embed_integration_type = spk_embed_integration_type
        self.condition_norm = condition_norm
        self.content_norm = torch.nn.LayerNorm(D) if condition_norm else None
        self.spk_norm = None
        if spk_embed_dim is not None and spk_embed_dim > 0:
            self.spk_embed_dim = spk_embed_dim
            concat = spk_embed_integration_type == "concat"
            self.spk_proj = torch.nn.Linear(spk_embed_dim + (D if concat else 0), D)
            if condition_norm and not concat:
                self.spk_norm = torch.nn.LayerNorm(D)

        conf = dict(_DECODER_DEFAULTS, output_size=adim)
        if decoder == "conformer":
            conf.update(_CONFORMER_DEFAULTS)
        conf.update(decoder_conf or {})
        cls = ConformerEncoder if decoder == "conformer" else TransformerEncoder
        self.decoder = cls(input_size=D, **conf)
        self.feat_out = torch.nn.Linear(self.decoder.output_size(), odim)

    # ----------------------------------------------------------------- the model
    def segments(
        self, text: torch.Tensor, text_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Unit ids -> segment vectors and their durations in units.

        Args:
            text: (B, T) unit ids (no <sos/eos>), padded.
            text_lengths: (B,) numbers of units (>= 1).

        Returns:
            (B, S, D) segment vectors and (B, S) durations (0 past each utterance's
            segments), with ``durations.sum(1) == text_lengths``.
        """
        B = text.size(0)
        T = int(text_lengths.max())
        text = text[:, :T]
        valid = torch.arange(T, device=text.device)[None, :] < text_lengths[:, None]
        x, x_lengths = self.frontend(text, text_lengths)
        if self.frontend_type == "dense":
            durations = valid.long()
        elif self.frontend_type == "dedup":
            durations, counts = run_lengths(text, text_lengths)
            if not torch.equal(counts, x_lengths.to(counts.device)):
                raise RuntimeError("dedup frontend and run lengths disagree")
        else:
            durations = self.frontend.last_durations.to(text.device)
        S = durations.size(1)
        if self.query_merge is not None:  # (B, S*k, D) -> (B, S, D)
            x = self.query_merge(x[:, : S * self.num_queries].reshape(B, S, -1))
        x = x[:, :S]
        if x.size(1) < S:
            x = F.pad(x, (0, 0, 0, S - x.size(1)))
        return x, durations

    def _unit_spembs(self, spembs: Optional[torch.Tensor], B: int) -> torch.Tensor:
        """(B, spk_embed_dim) L2-normalised d-vectors (errors if missing/wrong)."""
        if spembs is None:
            raise ValueError(
                f"this model needs spembs (B, {self.spk_embed_dim}): a speaker "
                "embedding (d-vector) per utterance"
            )
        spembs = spembs.reshape(B, -1).to(self.spk_proj.weight.dtype)
        if spembs.size(1) != self.spk_embed_dim:
            raise ValueError(
                f"spembs has {spembs.size(1)} dims, the model {self.spk_embed_dim}"
            )
        return F.normalize(spembs, dim=-1)

    def speaker_vector(self, spembs: torch.Tensor) -> torch.Tensor:
        """What ``add`` conditioning adds to every content vector: (B, D) from
        (B, spk_embed_dim) d-vectors (projected, and layer-normalised with
        ``condition_norm``)."""
        if self.spk_embed_dim is None or self.spk_embed_integration_type != "add":
            raise ValueError("speaker_vector: the model adds no d-vector")
        v = self.spk_proj(self._unit_spembs(spembs, spembs.size(0)))
        return v if self.spk_norm is None else self.spk_norm(v)

    def _condition(
        self,
        x: torch.Tensor,
        spembs: Optional[torch.Tensor],
        sids: Optional[torch.Tensor],
        lids: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """Add the speaker (and language) conditioning to (B, S, D) vectors (with
        ``condition_norm``, to the layer-normalised vectors)."""
        B = x.size(0)
        if self.content_norm is not None:
            x = self.content_norm(x)
        if self.spk_embed_dim is not None:
            e = self._unit_spembs(spembs, B).to(x.dtype)
            if self.spk_embed_integration_type == "add":
                x = x + self.speaker_vector(e)[:, None, :]
            else:
                if self.condition_norm:
                    e = e * x.size(-1) ** 0.5
                e = e[:, None, :].expand(-1, x.size(1), -1)
                x = self.spk_proj(torch.cat([x, e], dim=-1))
        if self.spks is not None:
            if sids is None:
                raise ValueError(f"this model needs sids (speaker ids < {self.spks})")
            x = x + self.sid_emb(sids.reshape(B, -1)[:, 0].long())[:, None, :]
        if self.langs is not None:
            if lids is None:
                raise ValueError(f"this model needs lids (language ids < {self.langs})")
            x = x + self.lid_emb(lids.reshape(B, -1)[:, 0].long())[:, None, :]
        return x

    @torch.no_grad()
    def conditioning_norms(
        self,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        spembs: torch.Tensor,
    ) -> Dict[str, float]:
        """Mean L2 norms at the decoder's input, for ``add`` conditioning: the
        content vectors (after ``condition_norm``'s LayerNorm, if any) and the
        speaker vector added to them, and their ratio speaker / content.

        Args:
            text: (B, T) unit ids; text_lengths: (B,); spembs: (B, spk_embed_dim).
        """
        seg, durations = self.segments(text, text_lengths)
        if self.content_norm is not None:
            seg = self.content_norm(seg)
        content = seg.norm(dim=-1)[durations > 0].mean()
        speaker = self.speaker_vector(spembs).norm(dim=-1).mean()
        return dict(
            content=float(content),
            speaker=float(speaker),
            ratio=float(speaker / content.clamp(min=1e-12)),
        )

    def generate(
        self,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        spembs: Optional[torch.Tensor] = None,
        sids: Optional[torch.Tensor] = None,
        lids: Optional[torch.Tensor] = None,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Unit ids -> log-mel, with the durations computed from the units.

        Args:
            text: (B, T) unit ids; text_lengths: (B,) >= 1.
            spembs: (B, spk_embed_dim); sids, lids: (B,) or (B, 1).

        Returns:
            mel (B, T, odim) (zeros past each end), its lengths (B,) = text_lengths,
            and the segment durations (B, S).
        """
        if bool((text_lengths <= 0).any()):
            bad = torch.nonzero(text_lengths <= 0).flatten().tolist()
            raise ValueError(f"empty unit sequence(s) at batch index {bad}")
        seg, durations = self.segments(text, text_lengths)
        seg = self._condition(seg, spembs, sids, lids)
        x, lengths = expand_by_durations(seg, durations)
        if not torch.equal(lengths, text_lengths.to(lengths.device)):
            raise RuntimeError(
                f"segment durations sum to {lengths.tolist()}, not to the numbers of "
                f"units {text_lengths.tolist()}"
            )
        h, _, _ = self.decoder(x, lengths)
        mel = self.feat_out(h)
        valid = torch.arange(mel.size(1), device=mel.device)[None, :] < lengths[:, None]
        return mel.masked_fill(~valid[:, :, None], 0.0), lengths, durations

    def align_target(
        self,
        feats: torch.Tensor,
        feats_lengths: torch.Tensor,
        num_frames: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Trim or pad the target mel to the number of units.

        Args:
            feats: (B, T_feats, odim) target mel; feats_lengths: (B,).
            num_frames: (B,) frames to predict (= units).

        Returns:
            target (B, T, odim) with T = max(num_frames), the loss mask (B, T) (frames
            that have a target), and (B,) mel frames minus units (after the offset).
        """
        available = (feats_lengths - self.target_offset).clamp(min=0)
        diff = available - num_frames
        tol = self.max_length_mismatch
        if tol is not None and bool((diff.abs() > tol).any()):
            b = int(torch.nonzero(diff.abs() > tol)[0])
            raise ValueError(
                f"batch index {b}: {int(feats_lengths[b])} mel frames (offset "
                f"{self.target_offset}) for {int(num_frames[b])} units: more than "
                f"{tol} frames apart; the units and the audio do not match (unit rate "
                "must be the mel frame rate: 50 Hz units, fs 16000, hop_length 320)"
            )
        T = int(num_frames.max())
        target = feats[:, self.target_offset : self.target_offset + T]
        if target.size(1) < T:
            target = F.pad(target, (0, 0, 0, T - target.size(1)))
        has_target = torch.minimum(available, num_frames)
        mask = torch.arange(T, device=feats.device)[None, :] < has_target[:, None]
        return target, mask, diff

    def forward(
        self,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        feats: torch.Tensor,
        feats_lengths: torch.Tensor,
        spembs: Optional[torch.Tensor] = None,
        sids: Optional[torch.Tensor] = None,
        lids: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], torch.Tensor]:
        """Loss of one batch (ESPnetTTSModel passes the extracted mel as ``feats``).

        Args:
            text: (B, T) unit ids; text_lengths: (B,).
            feats: (B, T_feats, odim) target log-mel; feats_lengths: (B,).
            spembs: (B, spk_embed_dim); sids, lids: (B, 1).
            kwargs: ``durations`` etc. from the data loader, unused (the durations
                come from the units).

        Returns:
            loss, stats, batch size (weight).
        """
        mel, lengths, durations = self.generate(
            text, text_lengths, spembs=spembs, sids=sids, lids=lids
        )
        target, mask, diff = self.align_target(feats, feats_lengths, lengths)
        m = mask[:, :, None].to(mel.dtype)
        n = m.sum().clamp(min=1.0) * mel.size(-1)
        l1 = ((mel - target).abs() * m).sum() / n
        mse = ((mel - target) ** 2 * m).sum() / n
        loss = self.l1_weight * l1 + self.mse_weight * mse
        stats = dict(
            loss=loss.detach(),
            l1_loss=l1.detach(),
            mse_loss=mse.detach(),
            segments_per_unit=(durations > 0).sum() / lengths.sum(),
            mel_minus_units=diff.float().mean(),
        )
        batch_size = text.size(0)
        loss, stats, weight = force_gatherable((loss, stats, batch_size), loss.device)
        return loss, stats, weight

    def inference(
        self,
        text: torch.Tensor,
        feats: Optional[torch.Tensor] = None,
        durations: Optional[torch.Tensor] = None,
        spembs: Optional[torch.Tensor] = None,
        sids: Optional[torch.Tensor] = None,
        lids: Optional[torch.Tensor] = None,
        use_teacher_forcing: bool = False,
        **kwargs,
    ) -> Dict[str, torch.Tensor]:
        """Convert one utterance.

        Args:
            text: (T,) unit ids.
            feats, durations, use_teacher_forcing: accepted for ESPnet's
                ``Text2Speech`` and ignored: the timing is that of the units, with or
                without teacher forcing.
            spembs: (spk_embed_dim,) target-speaker embedding (any speaker: a d-vector
                of a reference utterance).
            sids, lids: (1,) speaker / language id.

        Returns:
            ``feat_gen``: (T, odim) log-mel, one frame per unit; ``duration``: (S,)
            units per segment.
        """
        text = text.reshape(1, -1)
        lengths = torch.tensor([text.size(1)], device=text.device)
        mel, _, dur = self.generate(
            text,
            lengths,
            spembs=None if spembs is None else spembs.reshape(1, -1),
            sids=None if sids is None else sids.reshape(1, -1),
            lids=None if lids is None else lids.reshape(1, -1),
        )
        return dict(feat_gen=mel[0], duration=dur[0][dur[0] > 0])

    def batch_inference(
        self,
        text: Union[torch.Tensor, List[torch.Tensor]],
        text_lengths: Optional[torch.Tensor] = None,
        spembs: Optional[torch.Tensor] = None,
        sids: Optional[torch.Tensor] = None,
        lids: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> Dict[str, torch.Tensor]:
        """Convert a batch: ``text`` (B, T) with ``text_lengths`` (B,), or a list of
        (T_b,) tensors. Returns ``feat_gen`` (a list of (T_b, odim)),
        ``feat_gen_lengths`` (B,) and ``duration`` (B, S)."""
        if isinstance(text, (list, tuple)):
            text_lengths = torch.tensor([len(t) for t in text], device=text[0].device)
            text = torch.nn.utils.rnn.pad_sequence(list(text), batch_first=True)
        elif text_lengths is None:
            text_lengths = torch.full(
                (text.size(0),), text.size(1), dtype=torch.long, device=text.device
            )
        mel, lengths, dur = self.generate(
            text, text_lengths, spembs=spembs, sids=sids, lids=lids
        )
        return dict(
            feat_gen=[m[:n] for m, n in zip(mel, lengths.tolist())],
            feat_gen_lengths=lengths,
            duration=dur,
        )
