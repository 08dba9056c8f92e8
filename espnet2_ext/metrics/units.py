"""How much phone information discrete units carry: purity and PNMI.

The measures of the HuBERT paper (Hsu et al., 2021, section IV-C), computed from the
joint counts of (unit, phone) over frames that have a phone label:

* phone purity: the share of frames whose phone is the most frequent phone of their
  unit (how well the best phone-per-unit labelling does);
* cluster purity: the share of frames whose unit is the most frequent unit of their
  phone;
* PNMI (phone-normalised mutual information): ``I(phone; unit) / H(phone)``, the
  fraction of the phone label's uncertainty removed by knowing the unit (0: none,
  1: the unit determines the phone).

Frame labels come from a CTM: frame ``t`` (50 Hz) is centred at
``t * frame_shift + centre_offset`` seconds (samples ``[320 t, 320 t + 400)`` at 16 kHz
have their centre at ``0.02 t + 0.0125``), and takes the token whose interval
``[start, end)`` contains that time; frames outside every token are unlabelled (-1)
and not counted.
"""

from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from espnet2_ext.metrics.boundaries import FRAME_SHIFT, CtmEntry

FRAME_CENTRE_OFFSET = 0.0125


@dataclass
class UnitPhoneScores:
    pnmi: float
    phone_purity: float
    cluster_purity: float
    frames: int
    units_used: int
    phones: int

    def as_dict(self) -> Dict:
        return asdict(self)


def frame_labels(
    entries: Sequence[CtmEntry],
    num_frames: int,
    vocab: Dict[str, int],
    frame_shift: float = FRAME_SHIFT,
    centre_offset: float = FRAME_CENTRE_OFFSET,
) -> np.ndarray:
    """Phone id of each frame of one utterance, -1 where no token covers it.

    Args:
        entries: (start, end, token) sorted by start (``read_ctm``).
        vocab: token -> id; new tokens are added to it.

    Returns:
        (num_frames,) int64.
    """
    centres = np.arange(num_frames) * frame_shift + centre_offset
    labels = np.full(num_frames, -1, dtype=np.int64)
    if not entries:
        return labels
    starts = np.array([a for a, _, _ in entries])
    ends = np.array([b for _, b, _ in entries])
    ids = np.array([vocab.setdefault(tok, len(vocab)) for _, _, tok in entries])
    # the last token that starts at or before each centre, if the centre is inside it
    j = np.searchsorted(starts, centres, side="right") - 1
    ok = (j >= 0) & (centres < ends[np.clip(j, 0, None)])
    labels[ok] = ids[j[ok]]
    return labels


def unit_phone_scores(units: np.ndarray, phones: np.ndarray) -> UnitPhoneScores:
    """Purity and PNMI over frames.

    Args:
        units: (N,) unit ids >= 0.
        phones: (N,) phone ids, -1 for unlabelled frames (ignored).
    """
    units = np.asarray(units, dtype=np.int64)
    phones = np.asarray(phones, dtype=np.int64)
    if units.shape != phones.shape:
        raise ValueError(f"units {units.shape} and phones {phones.shape} differ")
    keep = phones >= 0
    u, p = units[keep], phones[keep]
    if u.size == 0:
        raise ValueError("no labelled frame")
    if (u < 0).any():
        raise ValueError("unit ids must be >= 0")
    _, u = np.unique(u, return_inverse=True)
    _, p = np.unique(p, return_inverse=True)
    joint = np.zeros((u.max() + 1, p.max() + 1))
    np.add.at(joint, (u, p), 1.0)
    n = joint.sum()
    pj = joint / n
    pu = pj.sum(1, keepdims=True)
    pp = pj.sum(0, keepdims=True)
    nz = pj > 0
    mi = float((pj[nz] * np.log(pj[nz] / (pu * pp)[nz])).sum())
    hp = float(-(pp[pp > 0] * np.log(pp[pp > 0])).sum())
    return UnitPhoneScores(
        pnmi=mi / hp if hp > 0 else 0.0,
        phone_purity=float(joint.max(1).sum() / n),
        cluster_purity=float(joint.max(0).sum() / n),
        frames=int(n),
        units_used=int(joint.shape[0]),
        phones=int(joint.shape[1]),
    )


def utterance_labels(
    units: Dict[str, np.ndarray],
    ctm: Dict[str, List[CtmEntry]],
    centre_offset: float = FRAME_CENTRE_OFFSET,
) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Concatenated (units, phone labels) of the utterances in both, and the keys of
    those missing from the CTM (skipped). ``centre_offset``: where frame 0 is centred
    (``espnet2_ext.units.features.frame_centre``: 0.0125 s MFCC/HuBERT, 0 Whisper)."""
    vocab: Dict[str, int] = {}
    us, ps, missing = [], [], []
    for k in sorted(units):
        if k not in ctm:
            missing.append(k)
            continue
        us.append(np.asarray(units[k], dtype=np.int64))
        ps.append(
            frame_labels(ctm[k], len(units[k]), vocab, centre_offset=centre_offset)
        )
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), missing
    return np.concatenate(us), np.concatenate(ps), missing
