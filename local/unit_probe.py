#!/usr/bin/env python3
"""Do units carry content that survives a change of voice?

Synthesizes ``--num_sentences`` sentences in two voices with espeak-ng, turns each
recording into k-means units (consecutive repeats removed) and compares the unit
strings by normalised Levenshtein distance (edit distance / longer length):

* ``same_sentence_other_voice``: the same sentence read by the other voice;
* ``other_sentence_same_voice`` / ``other_sentence_other_voice``: two different
  sentences (chance level).

Units that carry content give a same-sentence distance far below chance; units that
mostly encode the voice give about chance. The units come from a recipe's
``exp/kmeans/units.yaml`` (features + k-means fit on its training set), or, with
``--fit_kmeans K``, from a k-means fitted here on ``--fit_sentences`` other sentences
read by ``--fit_voices`` voices (the self-contained version of the probe).

    python local/unit_probe.py --units_config exp/kmeans/units.yaml \\
        --text data/test/text --voices en-us+m3 en-us+f2 --out exp/unit_probe.json
    python local/unit_probe.py --feature whisper --fit_kmeans 100 --text data/test/text
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import editdistance
import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from espnet2_ext.units.features import build_feature_extractor  # noqa: E402
from espnet2_ext.units.kmeans import KMeansModel, fit_kmeans  # noqa: E402
from synth_corpus import synthesize  # noqa: E402

LOG = logging.getLogger("unit_probe")


def dedup(units: np.ndarray) -> np.ndarray:
    """Remove consecutive repeats: (T,) -> (T',)."""
    if units.size == 0:
        return units
    keep = np.ones(units.size, dtype=bool)
    keep[1:] = units[1:] != units[:-1]
    return units[keep]


def norm_distance(a: Sequence[int], b: Sequence[int]) -> float:
    """Levenshtein distance divided by the longer length (0 = equal, 1 = disjoint)."""
    n = max(len(a), len(b))
    return editdistance.eval(list(a), list(b)) / n if n else 0.0


def read_sentences(text: Path, num: int, skip: int = 0) -> List[str]:
    """The first distinct transcripts of a Kaldi ``text`` file, lower case."""
    out: List[str] = []
    for line in text.read_text(encoding="utf-8").splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[1].lower() not in out:
            out.append(parts[1].lower())
    if len(out) < skip + num:
        raise SystemExit(f"{text} has {len(out)} distinct sentences, need {skip + num}")
    return out[skip : skip + num]


def features(extractor, wavs: List[np.ndarray]) -> List[torch.Tensor]:
    out = []
    with torch.no_grad():
        for w in wavs:
            x = torch.from_numpy(w)[None]
            f, n = extractor(x, torch.tensor([x.size(1)]))
            out.append(f[0, : int(n[0])])
    return out


def summarize(units: Dict[str, List[np.ndarray]]) -> Dict[str, float]:
    """units: voice -> list of dedup unit arrays.

    The same sentences in the same order for every voice.
    """
    voices = list(units)
    n = len(units[voices[0]])
    same, other_same_voice, other_other_voice = [], [], []
    for va, vb in itertools.combinations(voices, 2):
        for i in range(n):
            same.append(norm_distance(units[va][i], units[vb][i]))
            for j in range(n):
                if i != j:
                    other_other_voice.append(norm_distance(units[va][i], units[vb][j]))
    for v in voices:
        for i, j in itertools.combinations(range(n), 2):
            other_same_voice.append(norm_distance(units[v][i], units[v][j]))
    return {
        "same_sentence_other_voice": float(np.mean(same)),
        "other_sentence_same_voice": float(np.mean(other_same_voice)),
        "other_sentence_other_voice": float(np.mean(other_other_voice)),
        "pairs_same_sentence": len(same),
    }


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--text", type=Path, required=True, help="Kaldi text with sentences")
    p.add_argument("--num_sentences", type=int, default=20)
    p.add_argument("--voices", nargs="+", default=["en-us+m3", "en-us+f2"])
    p.add_argument("--pitch", type=int, default=50)
    p.add_argument("--speed", type=int, default=170)
    p.add_argument("--units_config", type=Path, help="a recipe's exp/kmeans/units.yaml")
    p.add_argument("--feature", help="feature extractor (with --fit_kmeans)")
    p.add_argument("--feature_conf", default="{}", help="YAML mapping")
    p.add_argument("--fit_kmeans", type=int, default=0, help="K: fit k-means here")
    p.add_argument("--fit_sentences", type=int, default=10)
    p.add_argument(
        "--fit_voices",
        nargs="+",
        default=["en-gb+m1", "en-us+f4", "en-029+m5", "en-gb-x-rp+f1"],
    )
    p.add_argument("--out", type=Path, help="JSON report")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    torch.set_num_threads(1)
    if args.units_config:
        conf = yaml.safe_load(args.units_config.read_text())
        feature, feature_conf = conf["feature"], conf.get("feature_conf") or {}
        km_path = Path(conf["kmeans"])
        if not km_path.is_file():
            km_path = args.units_config.parent.parent.parent / conf["kmeans"]
        km = KMeansModel.load(str(km_path))
    elif args.feature and args.fit_kmeans > 0:
        feature, feature_conf, km = (
            args.feature,
            yaml.safe_load(args.feature_conf),
            None,
        )
    else:
        raise SystemExit("give --units_config, or --feature and --fit_kmeans K")
    extractor = build_feature_extractor(feature, **feature_conf).eval()
    sentences = read_sentences(args.text, args.num_sentences)
    if km is None:
        fit_text = read_sentences(
            args.text, args.fit_sentences, skip=args.num_sentences
        )
        wavs = [
            synthesize(s + ".", v, args.pitch, args.speed, 0)
            for s in fit_text
            for v in args.fit_voices
        ]
        frames = torch.cat(features(extractor, wavs)).numpy()
        km = fit_kmeans(frames, args.fit_kmeans, seed=0)
        LOG.info("k-means K=%d fitted on %d frames", args.fit_kmeans, len(frames))
    units: Dict[str, List[np.ndarray]] = {}
    for v in args.voices:
        wavs = [synthesize(s + ".", v, args.pitch, args.speed, 0) for s in sentences]
        units[v] = [dedup(km.predict(f)) for f in features(extractor, wavs)]
    report = {
        "feature": feature,
        "feature_conf": feature_conf,
        "kmeans": (
            str(args.units_config) if args.units_config else f"fit K={args.fit_kmeans}"
        ),
        "voices": args.voices,
        "num_sentences": len(sentences),
        **summarize(units),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
