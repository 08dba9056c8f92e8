#!/usr/bin/env python3
"""Training step time and decoding real-time factor of trained ASR experiments.

The experiments are measured side by side.

Each ``--exp NAME=EXPDIR:TRAIN_UNITS:TEST_UNITS`` is a discrete-unit ASR experiment
trained with ``espnet2_ext.bin.mt_train`` (``EXPDIR`` holds ``config.yaml`` and
``--model_file``); ``TRAIN_UNITS`` / ``TEST_UNITS`` are that method's own Kaldi-style
input texts (50 Hz units, or e.g. BPE pieces of deduplicated units), tokenised with the
method's own source token list / source BPE model from its config. All methods are
measured in one process, on the same utterances, interleaved, so that load on the
machine and thermal drift hit every method alike.

* Training: ``--train_batches`` batches of ``--batch_size`` utterances are drawn once
  (seeded) from the utterances present in every method's train units and in
  ``--train_text``; the drawn utterances are ordered by length and cut into batches, as
  ESPnet's length-sorted batch samplers do. Each method's batch is built by its task's
  own preprocessor (``build_preprocess_fn(train_args, train=False)``) and collate
  function (``CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)``), i.e. the
  tensors the trainer sees. One step = ``model.train(); zero_grad(); model(**batch);
  backward(); clip_grad_norm_(grad_clip); Adam.step()`` (the config's ``optim_conf``;
  Adam whatever ``optim`` says). After ``--warmup`` untimed steps per method,
  ``--rounds`` rounds time one step per batch per method, the methods interleaved (the
  starting method rotates from batch to batch). ``train_step_ms`` is the median.
* Decoding: ESPnet's ``Text2Text`` (``espnet2.bin.mt_inference``, what the recipes
  decode with) per method, with the options of ``--decode_config``, on CPU, one
  utterance at a time. ``--decode_utts`` test utterances are drawn (seeded) from those
  present in every method's test units and in ``--test_duration_units``; after one
  untimed utterance per method, each utterance is decoded by every method in turn and
  the ``Text2Text`` call is timed (tokenising the input text, which the data loader
  does, is not). ``decode_rtf`` = decoding seconds / audio seconds, the audio duration
  of an utterance being its number of 50 Hz units in ``--test_duration_units`` /
  ``--unit_rate``. The unit LM of ``entropy_compress`` runs inside the model's frontend,
  so its cost is included; nothing is cached between calls. ESPnet's per-hypothesis INFO
  logging is silenced while decoding.

Config paths (token lists, BPE models, the unit LM) are read relative to the current
directory, as ESPnet does: run it from the recipe directory.

Usage::

    u=dump/units
    python -m espnet2_ext.bin.bench_speed \\
        --exp dense=exp/asr_dense:$u/train/units:$u/test/units \\
        --exp entropy_15=exp/asr_entropy_rate15:$u/train/units:$u/test/units \\
        --train_text $u/train/text --test_duration_units $u/test/units \\
        --decode_config conf/decode_asr.yaml --out exp/bench_speed.json

Writes a JSON report (``--out``) and prints one line per method with its ratios to the
first ``--exp``.
"""

import argparse
import contextlib
import gc
import inspect
import json
import logging
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Set

logger = logging.getLogger("bench_speed")

# Text2Text arguments that are not decoding options, or that this tool sets itself
_NOT_DECODE_OPTIONS = {
    "self",
    "mt_train_config",
    "mt_model_file",
    "device",
    "batch_size",
}


class BenchError(RuntimeError):
    """Unusable input (missing files, no common utterances, ...)."""


class Method:
    """One ``--exp``: its files, and the models built from them."""

    def __init__(
        self,
        name: str,
        expdir: Path,
        train_units: Path,
        test_units: Path,
        model_file: str,
    ):
        self.name = name
        self.expdir = expdir
        self.config = expdir / "config.yaml"
        self.model_file = expdir / model_file
        self.train_units = train_units
        self.test_units = test_units

    def check_files(self) -> None:
        if not self.expdir.is_dir():
            raise FileNotFoundError(
                f"--exp {self.name}: experiment directory not found: {self.expdir}"
            )
        if not self.config.is_file():
            raise FileNotFoundError(
                f"--exp {self.name}: config not found: {self.config}"
            )
        if not self.model_file.is_file():
            raise FileNotFoundError(
                f"--exp {self.name}: model file not found: {self.model_file} "
                "(see --model_file)"
            )
        for what, p in (
            ("train units", self.train_units),
            ("test units", self.test_units),
        ):
            if not p.is_file():
                raise FileNotFoundError(f"--exp {self.name}: {what} not found: {p}")


def parse_exp(spec: str, model_file: str) -> Method:
    """``NAME=EXPDIR:TRAIN_UNITS:TEST_UNITS`` -> :class:`Method`."""
    name, sep, rest = spec.partition("=")
    fields = rest.rsplit(":", 2)
    if not sep or not name or len(fields) != 3 or not all(fields):
        raise BenchError(f"--exp {spec!r}: expected NAME=EXPDIR:TRAIN_UNITS:TEST_UNITS")
    return Method(name, Path(fields[0]), Path(fields[1]), Path(fields[2]), model_file)


# --------------------------------------------------------------------------- text files
def read_ids(path: Path) -> Set[str]:
    """Utterance ids of a Kaldi-style text file that have at least one token."""
    ids = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split(maxsplit=1)
            if len(parts) == 2 and parts[1].strip():
                ids.add(parts[0])
    return ids


def read_lines(path: Path, ids: Set[str]) -> Dict[str, str]:
    """``{uttid: text}`` for the given ids only (train files can be large)."""
    out = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(maxsplit=1)
            if len(parts) == 2 and parts[0] in ids:
                out[parts[0]] = parts[1].strip()
    return out


def common_ids(sources: Dict[str, Path]) -> Set[str]:
    """Ids present (non-empty) in every file; a clear error when there is none."""
    sets = {what: read_ids(p) for what, p in sources.items()}
    common = set.intersection(*sets.values())
    if not common:
        sizes = ", ".join(
            f"{what} ({p}): {len(sets[what])}" for what, p in sources.items()
        )
        raise BenchError(f"no utterance is common to all of: {sizes}")
    return common


def choose_train_batches(
    common: Set[str],
    lengths: Dict[str, int],
    batch_size: int,
    n_batches: int,
    rng: random.Random,
) -> List[List[str]]:
    """Seeded choice of ``n_batches`` x ``batch_size`` ids.

    Length-sorted into batches.
    """
    need = batch_size * n_batches
    pool = sorted(common)
    if len(pool) < batch_size:
        raise BenchError(
            f"only {len(pool)} utterances are common to all train inputs; "
            f"--batch_size is {batch_size}"
        )
    if len(pool) >= need:
        chosen = rng.sample(pool, need)
        chosen.sort(key=lambda u: (lengths[u], u))
        return [chosen[i * batch_size : (i + 1) * batch_size] for i in range(n_batches)]
    logger.warning(
        "only %d common train utterances for %d x %d: batches are drawn "
        "independently and may share utterances",
        len(pool),
        n_batches,
        batch_size,
    )
    return [
        sorted(rng.sample(pool, batch_size), key=lambda u: (lengths[u], u))
        for _ in range(n_batches)
    ]


# --------------------------------------------------------------------------- training
def build_batch(
    preprocess, collate, uids: List[str], src: Dict[str, str], text: Dict[str, str]
):
    """The tensors ESPnet's trainer sees for these utterances.

    A dict for ``model(**batch)``.
    """
    items = [(u, preprocess(u, {"src_text": src[u], "text": text[u]})) for u in uids]
    out_ids, batch = collate(items)
    assert list(out_ids) == list(uids)
    return batch


def make_optimizer(model, train_args):
    import torch

    conf = dict(getattr(train_args, "optim_conf", None) or {})
    if getattr(train_args, "optim", "adam") != "adam":
        logger.warning(
            "config optim=%r: timing torch.optim.Adam with its lr instead",
            train_args.optim,
        )
        conf = {k: v for k, v in conf.items() if k == "lr"}
    allowed = set(inspect.signature(torch.optim.Adam).parameters) - {"params"}
    conf = {k: v for k, v in conf.items() if k in allowed}
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], **conf)


def train_step(
    model, optimizer, batch, grad_clip: float, grad_clip_type: float
) -> float:
    """One training step as ESPnet's trainer does it; returns the loss.

    Single device, no AMP.
    """
    import torch

    model.train()
    optimizer.zero_grad()
    loss, _stats, _weight = model(**batch)
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(
            model.parameters(), max_norm=grad_clip, norm_type=grad_clip_type
        )
    optimizer.step()
    return float(loss.detach())


class Trainee:
    """A method's model, optimizer and batches for the training-step measurement."""

    def __init__(
        self, method: Method, batch_ids: List[List[str]], text: Dict[str, str]
    ):
        from espnet2_ext.tasks.mt import CompressMTTask
        from espnet2_ext.utils.checkpoint import build_model_from_file

        self.method = method
        self.model, args = build_model_from_file(
            CompressMTTask, str(method.config), str(method.model_file), "cpu"
        )
        preprocess = CompressMTTask.build_preprocess_fn(args, train=False)
        if preprocess is None:
            raise BenchError(
                f"--exp {method.name}: use_preprocessor is false in {method.config}; "
                "the source text cannot be tokenised"
            )
        collate = CompressMTTask.build_collate_fn(args, train=True)
        needed = {u for b in batch_ids for u in b}
        src = read_lines(method.train_units, needed)
        self.batches = [
            build_batch(preprocess, collate, b, src, text) for b in batch_ids
        ]
        self.utt_ids = [list(b) for b in batch_ids]
        self.src_tokens = int(
            sum(int(b["src_text_lengths"].sum()) for b in self.batches)
        )
        self.optimizer = make_optimizer(self.model, args)
        clip, clip_type = getattr(args, "grad_clip", None), getattr(
            args, "grad_clip_type", None
        )
        self.grad_clip = 5.0 if clip is None else float(clip)  # ESPnet's default
        self.grad_clip_type = 2.0 if clip_type is None else float(clip_type)
        self.params = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        self.samples: List[float] = []

    def step(self, i: int) -> float:
        t0 = time.perf_counter()
        loss = train_step(
            self.model,
            self.optimizer,
            self.batches[i],
            self.grad_clip,
            self.grad_clip_type,
        )
        dt = time.perf_counter() - t0
        if not math.isfinite(loss):
            logger.warning(
                "%s: non-finite loss %s at a timed step", self.method.name, loss
            )
        return dt


def bench_training(
    methods: List[Method],
    batch_ids: List[List[str]],
    text: Dict[str, str],
    warmup: int,
    rounds: int,
) -> Dict[str, dict]:
    trainees = []
    for m in methods:
        logger.info(
            "%s: building the model and %d train batches", m.name, len(batch_ids)
        )
        trainees.append(Trainee(m, batch_ids, text))
    n_batches = len(batch_ids)
    for t in trainees:
        for i in range(warmup):
            t.step(i % n_batches)
    k = 0
    for r in range(rounds):
        for i in range(n_batches):
            order = trainees[k % len(trainees) :] + trainees[: k % len(trainees)]
            k += 1
            for t in order:
                t.samples.append(t.step(i))
        logger.info(
            "training round %d/%d: %s",
            r + 1,
            rounds,
            ", ".join(
                f"{t.method.name} {1e3 * statistics.median(t.samples):.1f} ms"
                for t in trainees
            ),
        )
    out = {}
    for t in trainees:
        ms = [1e3 * s for s in t.samples]
        out[t.method.name] = {
            "train_step_ms": statistics.median(ms),
            "train_step_ms_mean": statistics.fmean(ms),
            "train_step_samples": ms,
            "train_utt_ids": t.utt_ids,
            "train_src_tokens": t.src_tokens,
            "params": t.params,
        }
    del trainees
    gc.collect()
    return out


# --------------------------------------------------------------------------- decoding
def load_decode_options(path: Optional[Path]) -> dict:
    """``--decode_config`` -> keyword arguments of ``Text2Text``.

    Unknown keys are ignored.
    """
    import yaml

    from espnet2_ext.compat import Text2Text

    if path is None:
        return {}
    if not path.is_file():
        raise FileNotFoundError(f"--decode_config not found: {path}")
    conf = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(conf, dict):
        raise BenchError(f"--decode_config {path} must be a YAML mapping")
    params = inspect.signature(Text2Text.__init__).parameters
    out = {}
    for k, v in conf.items():
        if k not in params or k in _NOT_DECODE_OPTIONS:
            logger.warning(
                "--decode_config: ignoring %r (not a Text2Text decoding option)", k
            )
            continue
        default = params[k].default
        if (
            isinstance(default, float)
            and isinstance(v, int)
            and not isinstance(v, bool)
        ):
            v = float(v)  # Text2Text is type-checked: 1 -> 1.0
        out[k] = v
    return out


@contextlib.contextmanager
def quiet(*names: str, level: int = logging.WARNING):
    """Raise these loggers to ``level`` for a while.

    Log output is no part of the timing.
    """
    loggers = [logging.getLogger(n) for n in names]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lv in zip(loggers, saved):
            lg.setLevel(lv)


class Decoder:
    """A method's ``Text2Text`` and its tokenised test inputs."""

    def __init__(self, method: Method, utt_ids: List[str], options: dict):
        import torch

        from espnet2_ext.tasks.mt import CompressMTTask
        from espnet2_ext.utils.checkpoint import build_text2text

        self.method = method
        self.t2t = build_text2text(
            str(method.config),
            str(method.model_file),
            device="cpu",
            batch_size=1,
            **options,
        )
        preprocess = CompressMTTask.build_preprocess_fn(self.t2t.mt_train_args, False)
        if preprocess is None:
            raise BenchError(
                f"--exp {method.name}: use_preprocessor is false in {method.config}"
            )
        src = read_lines(method.test_units, set(utt_ids))
        self.inputs = {
            u: torch.from_numpy(preprocess(u, {"src_text": src[u]})["src_text"])
            for u in utt_ids
        }
        self.seconds: List[float] = []
        self.output_tokens = 0

    def decode(self, uid: str) -> float:
        x = self.inputs[uid].clone()  # a fresh tensor every call
        t0 = time.perf_counter()
        results = self.t2t(x)
        dt = time.perf_counter() - t0
        if results:
            self.output_tokens += len(results[0][2])
        return dt


def bench_decoding(
    methods: List[Method],
    utt_ids: List[str],
    durations: Dict[str, float],
    options: dict,
) -> Dict[str, dict]:
    decoders = []
    for m in methods:
        logger.info("%s: loading Text2Text", m.name)
        decoders.append(Decoder(m, utt_ids, options))
    with quiet(
        "espnet", "espnet2"
    ):  # ESPnet's beam search logs every hypothesis at INFO
        for d in decoders:  # warm-up, untimed
            d.decode(utt_ids[0])
            d.output_tokens = 0
        for k, u in enumerate(utt_ids):
            order = decoders[k % len(decoders) :] + decoders[: k % len(decoders)]
            for d in order:
                d.seconds.append(d.decode(u))
    audio = sum(durations[u] for u in utt_ids)
    out = {}
    for d in decoders:
        total = sum(d.seconds)
        out[d.method.name] = {
            "decode_rtf": total / audio,
            "decode_seconds": total,
            "audio_seconds": audio,
            "decode_utts": len(utt_ids),
            "decode_utt_ids": list(utt_ids),
            "decode_samples": d.seconds,
            "decode_output_tokens": d.output_tokens,
        }
    del decoders
    gc.collect()
    return out


# --------------------------------------------------------------------------- main
def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--exp",
        action="append",
        required=True,
        metavar="NAME=EXPDIR:TRAIN_UNITS:TEST_UNITS",
        help="a method (repeatable; ratios are against the first)",
    )
    p.add_argument(
        "--train_text",
        required=True,
        type=Path,
        help="transcripts of the train utterances",
    )
    p.add_argument(
        "--test_duration_units",
        required=True,
        type=Path,
        help="the test set's 50 Hz units (utterance duration = units / --unit_rate)",
    )
    p.add_argument("--unit_rate", type=float, default=50.0)
    p.add_argument(
        "--model_file", default="valid.acc.ave.pth", help="model file name in EXPDIR"
    )
    p.add_argument(
        "--decode_config",
        type=Path,
        help="YAML of Text2Text options (beam_size, ctc_weight, maxlenratio, ...)",
    )
    p.add_argument(
        "--batch_size", type=int, default=16, help="utterances per train batch"
    )
    p.add_argument("--train_batches", type=int, default=6)
    p.add_argument(
        "--warmup", type=int, default=2, help="untimed train steps per method"
    )
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--decode_utts", type=int, default=20)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch.set_num_threads (0: torch's default)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="JSON report")
    return p


def run(args) -> dict:
    import torch

    if (
        args.batch_size < 1
        or args.train_batches < 1
        or args.rounds < 1
        or args.decode_utts < 1
    ):
        raise BenchError(
            "--batch_size, --train_batches, --rounds and --decode_utts must be >= 1"
        )
    if args.warmup < 0 or args.unit_rate <= 0:
        raise BenchError("--warmup must be >= 0 and --unit_rate > 0")
    methods = [parse_exp(s, args.model_file) for s in args.exp]
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise BenchError(f"--exp names must be unique, got {names}")
    for m in methods:
        m.check_files()
    for what, p in (
        ("--train_text", args.train_text),
        ("--test_duration_units", args.test_duration_units),
    ):
        if not p.is_file():
            raise FileNotFoundError(f"{what} not found: {p}")
    options = load_decode_options(args.decode_config)

    # the utterances, once for all methods
    rng = random.Random(args.seed)
    train_common = common_ids(
        {
            "--train_text": args.train_text,
            **{f"{m.name} train units": m.train_units for m in methods},
        }
    )
    first_src = read_lines(methods[0].train_units, train_common)
    lengths = {u: len(s.split()) for u, s in first_src.items()}
    batch_ids = choose_train_batches(
        train_common, lengths, args.batch_size, args.train_batches, rng
    )
    text = read_lines(args.train_text, {u for b in batch_ids for u in b})
    test_common = common_ids(
        {
            "--test_duration_units": args.test_duration_units,
            **{f"{m.name} test units": m.test_units for m in methods},
        }
    )
    if len(test_common) < args.decode_utts:
        logger.warning(
            "only %d test utterances are common to all methods (--decode_utts %d)",
            len(test_common),
            args.decode_utts,
        )
    test_ids = rng.sample(sorted(test_common), min(args.decode_utts, len(test_common)))
    durations = {
        u: len(s.split()) / args.unit_rate
        for u, s in read_lines(args.test_duration_units, set(test_ids)).items()
    }

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    logger.info(
        "%d methods, %d threads; train: %d batches x %d utterances (%d common); "
        "decode: %d utterances (%d common), %.1f s of audio",
        len(methods),
        torch.get_num_threads(),
        len(batch_ids),
        args.batch_size,
        len(train_common),
        len(test_ids),
        len(test_common),
        sum(durations.values()),
    )
    train = bench_training(methods, batch_ids, text, args.warmup, args.rounds)
    decode = bench_decoding(methods, test_ids, durations, options)

    ref = methods[0].name
    report = {
        "threads": torch.get_num_threads(),
        "batch_size": args.batch_size,
        "train_batches": len(batch_ids),
        "warmup": args.warmup,
        "rounds": args.rounds,
        "seed": args.seed,
        "unit_rate": args.unit_rate,
        "model_file": args.model_file,
        "decode_options": options,
        "reference": ref,
        "train_utt_ids": batch_ids,
        "decode_utt_ids": test_ids,
        "methods": {},
    }
    for m in methods:
        r = dict(train[m.name], **decode[m.name])
        r["expdir"] = str(m.expdir)
        r["train_step_ratio"] = r["train_step_ms"] / train[ref]["train_step_ms"]
        r["decode_rtf_ratio"] = r["decode_rtf"] / decode[ref]["decode_rtf"]
        report["methods"][m.name] = r
    return report


def summary_lines(report: dict) -> List[str]:
    ref = report["reference"]
    lines = []
    for name, r in report["methods"].items():
        lines.append(
            f"{name}: train_step {r['train_step_ms']:.1f} ms (median of "
            f"{len(r['train_step_samples'])}, mean {r['train_step_ms_mean']:.1f}), "
            f"decode RTF {r['decode_rtf']:.4f} ({r['decode_seconds']:.2f} s for "
            f"{r['audio_seconds']:.1f} s of audio, {r['decode_utts']} utts), "
            f"{r['params'] / 1e6:.2f} M trainable params"
        )
    for name, r in list(report["methods"].items())[1:]:
        lines.append(
            f"{name}: train_step {r['train_step_ratio']:.2f}x, "
            f"decode {r['decode_rtf_ratio']:.2f}x of {ref}"
        )
    return lines


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    try:
        report = run(args)
    except (BenchError, FileNotFoundError) as e:
        logger.error("%s", e)
        return 1
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"threads {report['threads']}, batch {report['batch_size']} x "
        f"{report['train_batches']} batches"
    )
    for line in summary_lines(report):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
