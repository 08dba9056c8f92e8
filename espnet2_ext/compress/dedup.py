"""Baseline frontend ``dedup``: consecutive repeated units removed, then embedded.

The usual first step of ESPnet's discrete-unit recipes, done on the fly and vectorised
(one cumulative sum and one scatter per batch), so that the same unit dumps serve the
dense, dedup and compressed experiments.
"""

from typing import Tuple, Union

import torch
from typeguard import typechecked

from espnet2_ext.compat import AbsFrontend, Embedding


def dedup(
    ids: torch.Tensor, lengths: torch.Tensor, return_runs: bool = False
) -> Union[
    Tuple[torch.Tensor, torch.Tensor], Tuple[torch.Tensor, torch.Tensor, torch.Tensor]
]:
    """Remove consecutive repeats from a padded batch.

    Args:
        ids: (B, T) token ids.
        lengths: (B,) valid lengths.
        return_runs: also return each position's run index.

    Returns:
        (B, T') ids with repeats removed (padded with 0), (B,) new lengths, and with
        ``return_runs`` (B, T) the index in the deduplicated sequence of the run each
        position belongs to (0 at padding).
    """
    B, T = ids.shape
    valid = torch.arange(T, device=ids.device)[None, :] < lengths[:, None]
    keep = valid.clone()
    keep[:, 1:] &= ids[:, 1:] != ids[:, :-1]
    new_len = keep.sum(1)
    pos = torch.cumsum(keep.long(), 1) - 1
    out = ids.new_zeros(B, max(int(new_len.max()), 1))
    rows = torch.arange(B, device=ids.device)[:, None].expand(B, T)
    out[rows[keep], pos[keep]] = ids[keep]
    if return_runs:
        return out, new_len, pos.clamp(min=0).masked_fill(~valid, 0)
    return out, new_len


class DedupEmbedFrontend(AbsFrontend):
    """``frontend: dedup``: remove consecutive repeats, then embed.

    The embedding is ESPnet's embedding frontend.

    Args:
        input_size: source vocabulary size (given by the task).
        embed_dim: embedding size D.
        positional_dropout_rate: dropout after the positional encoding.
    """

    @typechecked
    def __init__(
        self,
        input_size: int,
        embed_dim: int = 256,
        positional_dropout_rate: float = 0.1,
    ):
        super().__init__()
        self.embed = Embedding(
            input_size, embed_dim, positional_dropout_rate=positional_dropout_rate
        )

    def output_size(self) -> int:
        return self.embed.output_size()

    def forward(
        self, input: torch.Tensor, input_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Embed the deduplicated ids.

        (B, T) ids, (B,) lengths -> (B, T', D) embeddings, (B,) lengths.
        """
        ids, lengths = dedup(input, input_lengths)
        return self.embed(ids, lengths)
