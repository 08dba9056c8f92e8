"""A per-utterance cache of the frozen unit LM's entropies.

The unit LM is frozen and a training set is seen once per epoch, so every epoch after
the first would compute the same entropies again. ESPnet hands the frontend padded
unit ids without utterance ids, so the cache is keyed by the content: two 64-bit
polynomial hashes of the valid ids plus the length (a collision needs two different
sequences of the same length that agree on both hashes). Hashing is vectorised over the
batch; only the dictionary look-up walks the B utterances of a batch (never frames).

Memory: 4 bytes per unit (float32), e.g. 4.5 MB for the 6 h mini_synth training set,
about 72 MB for LibriSpeech train-clean-100; ``max_units`` bounds it (once full,
new utterances are computed and not stored).
"""

import logging
from typing import Callable, Dict, List, Tuple

import torch
from typeguard import typechecked

logger = logging.getLogger(__name__)

Key = Tuple[int, int, int]


class EntropyCache:
    """Content-keyed cache of per-utterance entropies.

    Args:
        max_units: the most entropy values held (0: unlimited).
        seed: seed of the hash weights (one cache, one seed).
    """

    @typechecked
    def __init__(self, max_units: int = 0, seed: int = 0):
        self.max_units = max_units
        self._seed = seed
        self._w = torch.empty(2, 0, dtype=torch.long)
        self._store: Dict[Key, torch.Tensor] = {}
        self.units_held = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._store)

    def _weights(self, T: int, device: torch.device) -> torch.Tensor:
        if self._w.size(1) < T:
            g = torch.Generator().manual_seed(self._seed)
            n = max(T, 2 * self._w.size(1), 1024)
            # odd 62-bit weights; int64 products wrap around, which is fine for a hash
            self._w = torch.randint(0, 2**62, (2, n), generator=g, dtype=torch.long) | 1
        return self._w[:, :T].to(device)

    def keys(self, units: torch.Tensor, lengths: torch.Tensor) -> List[Key]:
        """(B, T) ids, (B,) lengths -> B keys (padding does not enter the key)."""
        B, T = units.shape
        valid = torch.arange(T, device=units.device)[None, :] < lengths[:, None]
        x = (units.long() + 1) * valid  # ids shifted so that id 0 counts
        w = self._weights(T, units.device)  # (2, T)
        h = (x[:, None, :] * w[None]).sum(-1)  # (B, 2)
        rows = torch.cat([lengths.long()[:, None], h], dim=1).cpu().tolist()
        return [tuple(r) for r in rows]

    def entropy(
        self,
        units: torch.Tensor,
        lengths: torch.Tensor,
        compute: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    ) -> torch.Tensor:
        """Entropies of a batch, computing (with ``compute``) only the unseen rows.

        Args:
            units: (B, T) unit ids, padded.
            lengths: (B,) valid lengths.
            compute: ``(units (N, T'), lengths (N,)) -> (N, T')`` entropies.

        Returns:
            (B, T) float entropies, padded positions 0.
        """
        B, T = units.shape
        keys = self.keys(units, lengths)
        rows = [self._store.get(k) for k in keys]
        miss = [i for i, r in enumerate(rows) if r is None]
        self.hits += B - len(miss)
        self.misses += len(miss)
        if miss:
            idx = torch.tensor(miss, device=units.device)
            sub_len = lengths[idx]
            h_new = compute(units[idx, : int(sub_len.max())], sub_len)
            for j, i in enumerate(miss):
                n = int(sub_len[j])
                rows[i] = h_new[j, :n].detach().float().cpu()
                if not self.max_units or self.units_held + n <= self.max_units:
                    self._store[keys[i]] = rows[i]
                    self.units_held += n
        out = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True)
        if out.size(1) < T:
            out = torch.nn.functional.pad(out, (0, T - out.size(1)))
        return out.to(units.device)

    def clear(self) -> None:
        self._store.clear()
        self.units_held = 0
