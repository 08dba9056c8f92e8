"""Cross-attention fusion of unit segments into one (or k) vector(s) per segment.

Per-token work (embeddings, LayerNorms, projections, feed-forward layers) runs on the
M valid units of the batch as one flat (M, D) tensor, so no compute is spent on
padding. Only the attention itself runs on the segments packed as (N, L) -- N
non-empty segments in the batch, L the longest segment -- with one scatter and one
gather per attention; nothing loops over segments or frames.
"""

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from typeguard import typechecked

from espnet2_ext.entropy.boundaries import segment_lengths_per_position


class _Attention(torch.nn.Module):
    """Multi-head attention over a key padding mask (scaled dot product)."""

    def __init__(self, d_model: int, num_heads: int, dropout: float):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(
                f"d_model={d_model} is not divisible by num_heads={num_heads}"
            )
        self.h, self.dk = num_heads, d_model // num_heads
        self.q = torch.nn.Linear(d_model, d_model)
        self.kv = torch.nn.Linear(d_model, 2 * d_model)
        self.out = torch.nn.Linear(d_model, d_model)
        self.dropout = dropout

    def _core(
        self, qh: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_valid
    ) -> torch.Tensor:
        mask = None if key_valid is None else key_valid[:, None, None, :]
        return F.scaled_dot_product_attention(
            qh, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )

    def forward_flat(
        self, q: Optional[torch.Tensor], kv: torch.Tensor, pack: "_Packing"
    ) -> torch.Tensor:
        """Attention within segments, with flat token tensors.

        Args:
            q: (M, D) flat token queries (self-attention), or (N, Lq, D) packed segment
                queries; None: ``kv`` itself as flat queries.
            kv: (M, D) flat tokens, keys and values.
            pack: where each flat token sits in the (N, L) packed segments.

        Returns:
            (M, D) for flat queries, (N, Lq, D) for packed ones.
        """
        D = kv.size(-1)
        kvp = pack.scatter(self.kv(kv))  # (N, L, 2D): projections on real tokens only
        k, v = kvp.view(pack.N, pack.L, 2, self.h, self.dk).permute(2, 0, 3, 1, 4)
        if q is None or q.dim() == 2:
            qp = pack.scatter(self.q(kv if q is None else q))  # (N, L, D)
            qh = qp.view(pack.N, pack.L, self.h, self.dk).transpose(1, 2)
            o = (
                self._core(qh, k, v, pack.valid)
                .transpose(1, 2)
                .reshape(pack.N, pack.L, D)
            )
            return self.out(pack.gather(o))
        N, Lq, _ = q.shape
        qh = self.q(q).view(N, Lq, self.h, self.dk).transpose(1, 2)
        o = self._core(qh, k, v, pack.valid)
        return self.out(o.transpose(1, 2).reshape(N, Lq, D))

    def forward_dense(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Self-attention over (B, T, D) with a (B, T, T) bool mask (True: attend)."""
        B, T, D = x.shape
        q = self.q(x).view(B, T, self.h, self.dk).transpose(1, 2)
        k, v = self.kv(x).view(B, T, 2, self.h, self.dk).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask[:, None],
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.out(o.transpose(1, 2).reshape(B, T, D))


class _Packing:
    """Positions of M flat tokens in N segments padded to L: (row, col) per token."""

    def __init__(self, row: torch.Tensor, col: torch.Tensor, N: int, L: int):
        self.row, self.col, self.N, self.L = row, col, N, L
        self.valid = torch.zeros(N, L, dtype=torch.bool, device=row.device)
        self.valid[row, col] = True

    def scatter(self, x: torch.Tensor) -> torch.Tensor:
        """(M, C) -> (N, L, C), zeros at padding."""
        out = x.new_zeros(self.N, self.L, x.size(-1))
        return out.index_put((self.row, self.col), x)

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, C) -> (M, C)."""
        return x[self.row, self.col]


class _FeedForward(torch.nn.Sequential):
    def __init__(self, d_model: int, d_ff: int, dropout: float):
        super().__init__(
            torch.nn.Linear(d_model, d_ff),
            torch.nn.GELU(),
            torch.nn.Dropout(dropout),
            torch.nn.Linear(d_ff, d_model),
        )


class _SelfAttentionBlock(torch.nn.Module):
    """Pre-LN Transformer layer restricted to the tokens of one segment."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.norm1 = torch.nn.LayerNorm(d_model)
        self.att = _Attention(d_model, num_heads, dropout)
        self.norm2 = torch.nn.LayerNorm(d_model)
        self.ff = _FeedForward(d_model, d_ff, dropout)
        self.drop = torch.nn.Dropout(dropout)

    def forward_flat(self, x: torch.Tensor, pack: _Packing) -> torch.Tensor:
        """x: (M, D) flat tokens -> (M, D); attention within each token's segment."""
        x = x + self.drop(self.att.forward_flat(None, self.norm1(x), pack))
        return x + self.drop(self.ff(self.norm2(x)))


class _BandSelfAttentionBlock(_SelfAttentionBlock):
    """Pre-LN Transformer layer over the whole utterance, each unit attending to the
    units at most ``window`` positions away (BLT's sliding-window local encoder): the
    unit states see past their segment's edges."""

    def __init__(self, d_model, num_heads, d_ff, dropout, window: int):
        super().__init__(d_model, num_heads, d_ff, dropout)
        self.window = window

    def forward_dense(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D), valid: (B, T) -> (B, T, D)."""
        T = x.size(1)
        pos = torch.arange(T, device=x.device)
        band = (pos[None, :] - pos[:, None]).abs() <= self.window  # (T, T)
        # padded queries attend to themselves only (their output is discarded)
        mask = (band[None] & valid[:, None, :]) | torch.eye(
            T, dtype=torch.bool, device=x.device
        )[None]
        x = x + self.drop(self.att.forward_dense(self.norm1(x), mask))
        return x + self.drop(self.ff(self.norm2(x)))


class CrossAttentionCompressor(torch.nn.Module):
    """Fuse each segment of units into ``num_queries`` vectors by cross-attention.

    unit ids -> embedding + position-in-segment embedding -> ``context_layers``
    Transformer layers over the whole utterance with a band mask of +-
    ``context_window`` units (BLT's local encoder: context beyond the segment) ->
    ``local_layers`` Transformer layers whose attention is restricted to the segment ->
    per segment,
    ``num_queries`` queries initialised from the pooled (mean or max) token states
    through a learned projection (plus a learned per-query offset) -> multi-head
    cross-attention whose keys/values are the token states of that segment only ->
    residual + feed-forward -> LayerNorm (-> + an embedding of the segment's length in
    units, ``duration_embed``).

    Args:
        vocab_size: number of unit token ids.
        d_model: vector size D.
        num_heads: attention heads (local encoder and cross-attention).
        local_layers: Transformer layers of the local encoder (0: none).
        local_ffn: feed-forward size of the local encoder.
        ffn: feed-forward size after the cross-attention.
        num_queries: vectors per segment (k); the output has S * k vectors.
        pool: ``mean`` or ``max`` query initialisation.
        max_position: positions in a segment beyond this share the last embedding
            (also the longest distinct segment length of ``duration_embed``).
        dropout: dropout rate.
        scale_position: scale the position-in-segment embedding by sqrt(d_model)
            like the unit embedding (False: it starts about sqrt(d_model) times
            weaker than the unit embedding).
        duration_embed: add a learned embedding of each segment's length (units) to
            its output vector, so that the encoder knows how long each segment is.
        context_layers: band-masked Transformer layers over the whole utterance
            before the segment-restricted layers (0: none).
        context_window: units each side that a context layer attends to.
    """

    @typechecked
    def __init__(
        self,
        vocab_size: int,
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
        super().__init__()
        if context_window < 1:
            raise ValueError(f"context_window must be >= 1, got {context_window}")
        if pool not in ("mean", "max"):
            raise ValueError(f"pool must be 'mean' or 'max', got {pool!r}")
        if num_queries < 1:
            raise ValueError(f"num_queries must be >= 1, got {num_queries}")
        self.d_model, self.num_queries, self.pool = d_model, num_queries, pool
        self.max_position = max_position
        self.embed = torch.nn.Embedding(vocab_size, d_model)
        self.pos_embed = torch.nn.Embedding(max_position, d_model)
        self.embed_drop = torch.nn.Dropout(dropout)
        self.pos_scale = math.sqrt(d_model) if scale_position else 1.0
        self.context = torch.nn.ModuleList(
            [
                _BandSelfAttentionBlock(
                    d_model, num_heads, local_ffn, dropout, context_window
                )
                for _ in range(context_layers)
            ]
        )
        self.dur_embed = (
            torch.nn.Embedding(max_position, d_model) if duration_embed else None
        )
        self.local = torch.nn.ModuleList(
            [
                _SelfAttentionBlock(d_model, num_heads, local_ffn, dropout)
                for _ in range(local_layers)
            ]
        )
        self.local_norm = torch.nn.LayerNorm(d_model)
        self.query_proj = torch.nn.Linear(d_model, num_queries * d_model)
        self.query_offset = torch.nn.Parameter(torch.zeros(num_queries, d_model))
        self.q_norm = torch.nn.LayerNorm(d_model)
        self.cross = _Attention(d_model, num_heads, dropout)
        self.ff_norm = torch.nn.LayerNorm(d_model)
        self.ff = _FeedForward(d_model, ffn, dropout)
        self.out_norm = torch.nn.LayerNorm(d_model)
        self.drop = torch.nn.Dropout(dropout)

    def output_size(self) -> int:
        return self.d_model

    # -- the per-segment computation, shared by the batched and the reference paths --
    def _embed(self, ids: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        pos = offset.clamp(max=self.max_position - 1)
        return self.embed_drop(
            self.embed(ids) * math.sqrt(self.d_model)
            + self.pos_embed(pos) * self.pos_scale
        )

    def _context(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The band-masked context layers on flat tokens: (M, D) -> (M, D), ``valid``
        (B, T) saying where the M tokens sit."""
        if not len(self.context):
            return x
        dense = x.new_zeros(*valid.shape, x.size(-1))
        dense[valid] = x
        for layer in self.context:
            dense = layer.forward_dense(dense, valid)
        return dense[valid]

    def forward(
        self,
        ids: torch.Tensor,
        lengths: torch.Tensor,
        seg_ids: torch.Tensor,
        counts: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Compress a padded batch of unit sequences.

        Args:
            ids: (B, T) unit ids.
            lengths: (B,) valid lengths.
            seg_ids: (B, T) segment index of each unit (non-decreasing from 0; padding
                ignored).
            counts: (B,) segments per utterance (S_b).

        Returns:
            out: (B, S_max * k, D) segment vectors (zeros past each utterance's end).
            out_lengths: (B,) = counts * k.
            durations: (B, S_max) units per segment (0 past the end).
        """
        B, T = ids.shape
        valid = torch.arange(T, device=ids.device)[None, :] < lengths[:, None]
        starts = torch.zeros_like(valid)
        starts[:, 0] = True
        starts[:, 1:] = seg_ids[:, 1:] != seg_ids[:, :-1]
        starts = starts & valid
        _, offset, _ = segment_lengths_per_position(starts, valid)
        S = int(counts.max())
        sid = seg_ids.clamp(min=0)

        durations = torch.zeros(B, S, dtype=torch.long, device=ids.device)
        durations.scatter_add_(1, sid, valid.long())
        L = int(durations.max())

        # flat valid tokens (M, D) and their place in the N existing segments
        has_seg = (
            torch.arange(S, device=ids.device)[None, :] < counts[:, None]
        ).reshape(-1)
        compact = torch.cumsum(has_seg.long(), 0) - 1  # row among existing segments
        row = compact[(torch.arange(B, device=ids.device)[:, None] * S + sid)[valid]]
        pack = _Packing(row, offset[valid], int(has_seg.sum()), L)
        x = self._context(self._embed(ids[valid], offset[valid]), valid)
        vec = self.segments_to_vectors(x, pack)  # (N, k, D)
        out = vec.new_zeros(B * S, self.num_queries, self.d_model)
        out = out.index_put((torch.nonzero(has_seg).flatten(),), vec)
        out = out.view(B, S * self.num_queries, self.d_model)
        return out, counts * self.num_queries, durations

    def segments_to_vectors(self, x: torch.Tensor, pack: _Packing) -> torch.Tensor:
        """Embedded tokens of N segments -> query vectors; shared by both paths.

        Args:
            x: (M, D) embedded tokens, flat.
            pack: where each token sits in the (N, L) packed segments.

        Returns:
            (N, k, D) segment vectors.
        """
        for layer in self.local:
            x = layer.forward_flat(x, pack)
        x = self.local_norm(x)
        N = pack.N
        if self.pool == "mean":
            dur = pack.valid.sum(1, keepdim=True).to(x.dtype)
            pooled = x.new_zeros(N, self.d_model).index_add(0, pack.row, x) / dur
        else:
            pooled = x.new_full((N, self.d_model), float("-inf")).index_reduce(
                0, pack.row, x, "amax", include_self=True
            )
        q = (
            self.query_proj(pooled).view(N, self.num_queries, self.d_model)
            + self.query_offset
        )
        q = q + self.drop(self.cross.forward_flat(self.q_norm(q), x, pack))
        q = q + self.drop(self.ff(self.ff_norm(q)))
        q = self.out_norm(q)
        if self.dur_embed is not None:
            dur = pack.valid.sum(1).clamp(max=self.max_position - 1)  # (N,)
            q = q + self.dur_embed(dur)[:, None, :]
        return q


def reference_compress(
    comp: CrossAttentionCompressor,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    seg_ids: torch.Tensor,
    counts: torch.Tensor,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Naive per-utterance, per-segment loop computing what ``comp.forward`` computes.

    For tests and the benchmark only; never used in training.
    """
    B = ids.size(0)
    S = int(counts.max())
    k, D = comp.num_queries, comp.d_model
    out = ids.new_zeros((B, S * k, D), dtype=torch.float32)
    durations = torch.zeros(B, S, dtype=torch.long)
    for b in range(B):
        n = int(lengths[b])
        sid = seg_ids[b, :n]
        offsets = torch.zeros(n, dtype=torch.long)
        for s in range(int(counts[b])):
            idx = torch.nonzero(sid == s).flatten()
            offsets[idx] = torch.arange(len(idx))
        x = comp._embed(ids[b, :n], offsets)
        if len(comp.context):
            x = x[None]
            for layer in comp.context:
                x = layer.forward_dense(x, torch.ones(1, n, dtype=torch.bool))
            x = x[0]
        for s in range(int(counts[b])):
            idx = torch.nonzero(sid == s).flatten()
            durations[b, s] = len(idx)
            one = _Packing(torch.zeros_like(idx), torch.arange(len(idx)), 1, len(idx))
            out[b, s * k : (s + 1) * k] = comp.segments_to_vectors(x[idx], one)[0]
    return out, counts * k, durations
