"""Audio loading for unit extraction: any file soundfile reads -> mono float32 16 kHz.

Supported ``wav.scp`` values (the part after the utterance id):

* a plain path to a file that libsndfile reads (wav, flac, ogg, ...; any sample rate,
  any channel count, any PCM/float encoding);
* a Kaldi pipe ``cmd ... |``: the command is run with ``bash -c`` (like Kaldi does)
  and its standard output must be a complete audio file (e.g. ``sox x.sph -t wav - |``,
  ``flac -dcs x.flac |``). This runs arbitrary shell commands from the scp file, exactly
  as Kaldi/ESPnet do; pass ``allow_pipe=False`` to refuse such entries instead;
* a Kaldi/kaldiio wav ark entry ``foo.ark:1234`` (as written by ESPnet's
  ``format_wav_scp`` with ``--audio-format wav`` into ark), read with kaldiio.

Not supported: Kaldi ``segments`` files (cut the audio first), and the ``[start:end]``
extended-filename ranges on plain paths.

Every failure raises :class:`AudioError` whose ``reason`` is one of the ``REASON_*``
constants, so command-line tools can count skipped utterances by cause.
"""

import io
import os
import re
import subprocess
from typing import Optional, Tuple

import numpy as np
import soundfile
import torch
import torchaudio

TARGET_SAMPLE_RATE = 16000

REASON_MISSING = "missing_file"
REASON_UNREADABLE = "unreadable"
REASON_FORMAT = "wrong_format"
REASON_EMPTY = "empty"
REASON_TOO_SHORT = "too_short"
REASON_TOO_LONG = "too_long"
REASON_INVALID = "invalid_samples"
REASON_PIPE = "pipe_failed"
REASON_PIPE_REJECTED = "pipe_rejected"
REASON_BAD_ENTRY = "bad_scp_entry"

_ARK_RE = re.compile(r"^(?P<path>.+\.ark):(?P<offset>\d+)$")


class AudioError(Exception):
    """An utterance whose audio cannot be used.

    Attributes:
        reason: short machine-readable cause (one of the ``REASON_*`` constants).
        source: the path or scp value that failed.
    """

    def __init__(self, reason: str, source: str, detail: str = ""):
        self.reason = reason
        self.source = source
        self.detail = detail
        msg = f"{reason}: {source}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


def is_pipe(entry: str) -> bool:
    """True if a wav.scp value is a Kaldi pipe command (``cmd |``)."""
    return entry.rstrip().endswith("|")


def _classify_soundfile_error(e: Exception) -> str:
    msg = str(e).lower()
    if (
        "format not recognised" in msg
        or "unknown format" in msg
        or "not recognised" in msg
    ):
        return REASON_FORMAT
    return REASON_UNREADABLE


def _read_soundfile(src, name: str) -> Tuple[np.ndarray, int]:
    """Read (samples, channels) float32 with soundfile; map errors to AudioError."""
    try:
        data, sr = soundfile.read(src, dtype="float32", always_2d=True)
    except (IsADirectoryError, PermissionError) as e:
        raise AudioError(REASON_UNREADABLE, name, str(e)) from e
    except FileNotFoundError as e:
        raise AudioError(REASON_MISSING, name, str(e)) from e
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError) as e:
        reason = _classify_soundfile_error(e)
        detail = str(e)
        if reason == REASON_FORMAT or "samplerate" in detail.lower():
            reason = REASON_FORMAT
            detail += (
                "; no audio header libsndfile knows: for headerless (raw PCM) audio, "
                "write a header first, e.g. 'sox -t raw -r 16000 -e signed -b 16 "
                "-c 1 in.pcm in.wav' with the real rate, encoding and channels"
            )
        raise AudioError(reason, name, detail) from e
    except OSError as e:
        raise AudioError(REASON_UNREADABLE, name, str(e)) from e
    return data, int(sr)


def _read_raw(
    entry: str,
    allow_pipe: bool,
    pipe_timeout: Optional[float],
    max_duration: Optional[float] = None,
) -> Tuple[np.ndarray, int]:
    """Read a wav.scp value -> ((samples, channels) float32 array, sample rate)."""
    entry = entry.strip()
    if not entry:
        raise AudioError(REASON_BAD_ENTRY, entry, "empty wav.scp value")
    if is_pipe(entry):
        if not allow_pipe:
            raise AudioError(
                REASON_PIPE_REJECTED,
                entry,
                "pipe entries are disabled (allow_pipe=False); convert the audio to "
                "files",
            )
        cmd = entry.rstrip()[:-1]
        try:
            proc = subprocess.run(
                ["bash", "-c", cmd],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=pipe_timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise AudioError(REASON_PIPE, entry, str(e)) from e
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise AudioError(
                REASON_PIPE, entry, f"exit {proc.returncode}: {err[-1] if err else ''}"
            )
        if len(proc.stdout) == 0:
            raise AudioError(REASON_EMPTY, entry, "pipe produced no output")
        return _read_soundfile(io.BytesIO(proc.stdout), entry)

    if not os.path.exists(entry):
        m = _ARK_RE.match(entry)
        if m is not None and os.path.isfile(m.group("path")):
            import kaldiio

            try:
                obj = kaldiio.load_mat(entry)
            except Exception as e:  # kaldiio raises many kinds
                raise AudioError(REASON_UNREADABLE, entry, str(e)) from e
            if not (isinstance(obj, tuple) and len(obj) == 2):
                raise AudioError(
                    REASON_FORMAT, entry, "ark entry is not audio (rate, wave)"
                )
            sr, arr = obj
            arr = np.asarray(arr)
            if np.issubdtype(arr.dtype, np.integer):
                arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max + 1)
            arr = arr.astype(np.float32)
            if arr.ndim == 1:
                arr = arr[:, None]
            return arr, int(sr)
        detail = "no such file"
        head, _, rest = entry.partition(" ")
        if rest and os.path.exists(rest.strip()):
            detail += (
                f"; '{rest.strip()}' exists: is '{head}' the end of an utterance id "
                "with a space in it? Kaldi-style ids cannot contain spaces"
            )
        raise AudioError(REASON_MISSING, entry, detail)
    if os.path.isdir(entry):
        raise AudioError(REASON_UNREADABLE, entry, "is a directory")
    if not os.access(entry, os.R_OK):
        raise AudioError(REASON_UNREADABLE, entry, "permission denied")
    if os.path.getsize(entry) == 0:
        raise AudioError(REASON_EMPTY, entry, "zero-byte file")
    if max_duration is not None:  # refuse a long file from its header, unread
        duration = probe_duration(entry)
        if duration is not None and duration > max_duration:
            raise AudioError(
                REASON_TOO_LONG,
                entry,
                f"{duration:.1f} s > max_duration {max_duration:g} s (from the header)",
            )
    return _read_soundfile(entry, entry)


def limit_duration(
    max_duration: Optional[float], extractor_limit: Optional[float]
) -> Optional[float]:
    """The stricter of a user's ``max_duration`` and a feature extractor's own limit
    (``AbsFeatureExtractor.max_input_seconds``); None when neither is set."""
    limits = [x for x in (max_duration, extractor_limit) if x is not None]
    return min(limits) if limits else None


def load_audio(
    entry: str,
    target_sr: int = TARGET_SAMPLE_RATE,
    min_duration: float = 0.1,
    max_duration: Optional[float] = None,
    allow_pipe: bool = True,
    pipe_timeout: Optional[float] = 600.0,
) -> torch.Tensor:
    """Load one utterance as a mono float32 waveform at ``target_sr``.

    Channels are averaged; the sample rate is converted with
    ``torchaudio.functional.resample`` (windowed-sinc).

    Args:
        entry: a path, a pipe command ending in ``|``, or ``foo.ark:offset``.
        target_sr: output sample rate.
        min_duration: seconds; shorter audio raises ``AudioError(REASON_TOO_SHORT)``.
            HuBERT's and our MFCC's first frame needs 400 samples (25 ms), so this
            must be at least 0.025 s for a non-empty feature sequence.
        max_duration: seconds; longer audio raises ``AudioError(REASON_TOO_LONG)``
            (None: no limit). A plain file is checked from its header first, so a
            long file is refused without being decoded.
        allow_pipe: run ``cmd |`` entries (True) or reject them (False).
        pipe_timeout: seconds a pipe command may run.

    Returns:
        torch.Tensor: (N,) float32 waveform at ``target_sr``.

    Raises:
        AudioError: the audio is missing, unreadable, of unknown format, empty,
            too short/long, or contains NaN/inf.
    """
    data, sr = _read_raw(
        entry,
        allow_pipe=allow_pipe,
        pipe_timeout=pipe_timeout,
        max_duration=max_duration,
    )
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise AudioError(REASON_EMPTY, entry, "no samples")
    if sr <= 0:
        raise AudioError(REASON_FORMAT, entry, f"invalid sample rate {sr}")
    if not np.isfinite(data).all():
        raise AudioError(REASON_INVALID, entry, "NaN or inf samples")
    duration = data.shape[0] / sr
    if duration < min_duration:
        raise AudioError(
            REASON_TOO_SHORT, entry, f"{duration:.3f} s < min_duration {min_duration} s"
        )
    if max_duration is not None and duration > max_duration:
        raise AudioError(
            REASON_TOO_LONG, entry, f"{duration:.1f} s > max_duration {max_duration} s"
        )
    wav = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1, dtype=np.float32)))
    if sr != target_sr:
        wav = torchaudio.functional.resample(wav, orig_freq=sr, new_freq=target_sr)
    return wav.contiguous()


def probe_duration(entry: str) -> Optional[float]:
    """Duration in seconds from the file header only, or None if unknown.

    Pipes, ark entries and files whose header cannot be read give None (the real
    error, if any, is reported by :func:`load_audio`).
    """
    entry = entry.strip()
    if not entry or is_pipe(entry) or not os.path.isfile(entry):
        return None
    try:
        info = soundfile.info(entry)
    except Exception:
        return None
    if info.samplerate <= 0:
        return None
    return info.frames / info.samplerate
