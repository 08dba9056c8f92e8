"""Unit extraction: audio loading, 50 Hz features (MFCC, HuBERT, Whisper), k-means."""

from espnet2_ext.units.audio import AudioError, load_audio
from espnet2_ext.units.features import (
    AbsFeatureExtractor,
    HuBERTExtractor,
    MFCCExtractor,
    WhisperExtractor,
    build_feature_extractor,
    num_frames,
)
from espnet2_ext.units.kmeans import KMeansModel, fit_kmeans, sample_frames

__all__ = [
    "AudioError",
    "load_audio",
    "AbsFeatureExtractor",
    "HuBERTExtractor",
    "MFCCExtractor",
    "WhisperExtractor",
    "build_feature_extractor",
    "num_frames",
    "KMeansModel",
    "fit_kmeans",
    "sample_frames",
]
