"""k-means over frame features: seeded frame sampling, fitting, saving, applying.

Model files
    ``km_<feature>_<K>.npy``: the (K, D) float32 centroids as a plain NumPy array,
    read with ``np.load(allow_pickle=False)`` (no code in the file can run), with a
    ``<path>.json`` beside it for metadata (optional when loading). This is the only
    format :meth:`KMeansModel.save` writes.

    Legacy: joblib/pickle files (``km.pkl``: this package's old format, a dict
    ``{"cluster_centers": ..., "meta": ...}``; or a fitted scikit-learn
    ``KMeans``/``MiniBatchKMeans`` as fairseq's and ESPnet's HuBERT recipes write).
    Unpickling runs code from the file, so :meth:`KMeansModel.load` reads them only with
    ``trust_pickle=True``; convert such a file once with
    ``python -m espnet2_ext.bin.convert_kmeans --trust_remote_pickle km.pkl km.npy``.

Assignment is the nearest centroid in squared Euclidean distance, computed as
``|x|^2 - 2 x.c + |c|^2`` in one matrix product (torch), like fairseq's ApplyKmeans.
"""

import json
import logging
import os
import time
from typing import Any, Dict, Iterable, Optional, Union

import numpy as np
import torch


class FrameSampler:
    """Uniform random sample of at most ``max_frames`` frames from utterances.

    The utterances arrive as a stream.

    Every frame gets an independent uniform random key; the sample is the
    ``max_frames`` frames with the smallest keys, kept incrementally (memory stays
    below about 2 * max_frames frames). The result is a uniform sample without
    replacement, deterministic for a given seed and utterance order.

    Args:
        max_frames: cap on the number of frames kept (None: keep all).
        seed: random seed.
    """

    def __init__(self, max_frames: Optional[int] = None, seed: int = 0):
        if max_frames is not None and max_frames <= 0:
            raise ValueError("max_frames must be positive")
        self.max_frames = max_frames
        self.rng = np.random.default_rng(seed)
        self._feats = []
        self._keys = []
        self._n = 0
        self.n_seen = 0
        self.n_utts = 0

    def add(self, feats: np.ndarray) -> None:
        """feats: (T, D) frames of one utterance."""
        feats = np.asarray(feats, dtype=np.float32)
        if feats.ndim != 2:
            raise ValueError(f"expected (T, D) features, got shape {feats.shape}")
        self.n_seen += feats.shape[0]
        self.n_utts += 1
        keys = self.rng.random(feats.shape[0])
        self._feats.append(feats)
        self._keys.append(keys)
        self._n += feats.shape[0]
        if self.max_frames is not None and self._n > 2 * self.max_frames:
            self._shrink()

    def _shrink(self) -> None:
        feats = np.concatenate(self._feats)
        keys = np.concatenate(self._keys)
        if self.max_frames is not None and len(keys) > self.max_frames:
            keep = np.argpartition(keys, self.max_frames - 1)[: self.max_frames]
            keep.sort()  # keep stream order: deterministic and cache friendly
            feats, keys = feats[keep], keys[keep]
        self._feats, self._keys, self._n = [feats], [keys], len(keys)

    def result(self) -> np.ndarray:
        """(M, D) float32 sampled frames, M = min(max_frames, frames seen)."""
        if not self._feats:
            raise ValueError("no frames were added")
        self._shrink()
        return self._feats[0]


class KMeansModel:
    """Fitted centroids and the nearest-centroid assignment.

    Args:
        cluster_centers: (K, D) array.
        meta: free-form metadata saved with the model.
    """

    def __init__(
        self, cluster_centers: np.ndarray, meta: Optional[Dict[str, Any]] = None
    ):
        c = np.asarray(cluster_centers, dtype=np.float32)
        if c.ndim != 2 or c.shape[0] < 1:
            raise ValueError(f"cluster_centers must be (K, D), got {c.shape}")
        self.cluster_centers = c
        self.meta = dict(meta or {})
        self._c = torch.from_numpy(c)
        self._c_sq = (self._c**2).sum(-1)

    @property
    def n_clusters(self) -> int:
        return self.cluster_centers.shape[0]

    @property
    def dim(self) -> int:
        return self.cluster_centers.shape[1]

    def predict_torch(self, feats: torch.Tensor) -> torch.Tensor:
        """feats: (..., D) float -> (...) long nearest-centroid ids."""
        if feats.size(-1) != self.dim:
            raise ValueError(f"feature dim {feats.size(-1)} != k-means dim {self.dim}")
        c = self._c.to(device=feats.device)
        c_sq = self._c_sq.to(device=feats.device)
        x = feats.to(torch.float32)
        dist = (x**2).sum(-1, keepdim=True) - 2.0 * (x @ c.t()) + c_sq
        return dist.argmin(dim=-1)

    def predict(
        self,
        feats: Union[np.ndarray, torch.Tensor],
        chunk: int = 65536,
        device: Optional[Union[str, torch.device]] = None,
    ) -> np.ndarray:
        """feats: (T, D) -> (T,) int64 unit ids.

        Computed in chunks of frames, on ``device``.
        """
        if isinstance(feats, torch.Tensor):
            x = feats
        else:  # kaldiio may hand out read-only arrays: copy only when needed
            x = torch.from_numpy(
                np.require(feats, dtype=np.float32, requirements=["C", "W"])
            )
        if device is not None:
            x = x.to(device)
        if x.ndim != 2:
            raise ValueError(f"expected (T, D) features, got {tuple(x.shape)}")
        with torch.no_grad():
            out = [
                self.predict_torch(x[i : i + chunk]) for i in range(0, x.size(0), chunk)
            ]
        if not out:
            return np.zeros(0, dtype=np.int64)
        return torch.cat(out).cpu().numpy().astype(np.int64)

    def inertia(self, feats: np.ndarray) -> float:
        """Mean squared distance of frames to their nearest centroid."""
        x = torch.as_tensor(np.asarray(feats, dtype=np.float32))
        with torch.no_grad():
            d = (x**2).sum(-1, keepdim=True) - 2.0 * (x @ self._c.t()) + self._c_sq
            return float(d.min(-1).values.clamp(min=0).mean())

    # ------------------------------------------------------------------ persistence
    def save(self, path: str) -> None:
        """Write the centroids to ``path`` (``.npy``) and the metadata to ``path.json``.

        Both are written atomically (temporary file + rename).
        """
        if not str(path).endswith(".npy"):
            raise ValueError(
                "k-means models are saved as .npy (plain centroid arrays), got "
                f"{path!r}"
            )
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        meta = dict(self.meta, n_clusters=self.n_clusters, dim=self.dim)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            np.save(f, self.cluster_centers, allow_pickle=False)
        os.replace(tmp, path)
        with open(path + ".json.tmp", "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
        os.replace(path + ".json.tmp", path + ".json")

    @classmethod
    def load(cls, path: str, trust_pickle: bool = False) -> "KMeansModel":
        """Read a k-means model (see the module docstring).

        Args:
            path: a ``.npy`` centroid array (any file starting with NumPy's magic
                bytes is read as one), or a legacy joblib/pickle file.
            trust_pickle: allow reading a legacy joblib/pickle file, which runs code
                stored in it. Off by default.

        Raises:
            FileNotFoundError: no such file.
            UntrustedPickleError: a legacy pickle and ``trust_pickle`` is false.
            ValueError: not a (K, D) array / not a k-means model.
        """
        if not os.path.isfile(path):
            raise FileNotFoundError(f"k-means model not found: {path}")
        if is_npy_file(path):
            try:
                centers = np.load(path, allow_pickle=False)
            except ValueError as e:  # an object array: would need pickle
                raise ValueError(f"{path}: not a plain numeric .npy array ({e})") from e
            if not np.issubdtype(centers.dtype, np.number):
                raise ValueError(
                    f"{path}: centroids must be numeric, got dtype {centers.dtype}"
                )
            meta = {}
            if os.path.isfile(path + ".json"):
                with open(path + ".json") as f:
                    meta = json.load(f)
            return cls(centers, meta)
        if not trust_pickle:
            raise UntrustedPickleError(
                f"{path} is not a .npy centroid array: it looks like a legacy "
                "joblib/pickle k-means model, and unpickling runs code stored in "
                "the file, so it is not loaded by default. If you trust the file, "
                "convert it once with\n"
                "    python -m espnet2_ext.bin.convert_kmeans --trust_remote_pickle "
                f"{path} {npy_path_for(path)}\n"
                "and use the .npy (or load it with trust_pickle=True / "
                "--trust_remote_pickle)."
            )
        import joblib

        logging.warning(
            "%s: loading a legacy joblib/pickle k-means model (trust_pickle)", path
        )
        obj = joblib.load(path)
        if isinstance(obj, dict) and "cluster_centers" in obj:
            return cls(obj["cluster_centers"], obj.get("meta"))
        if hasattr(obj, "cluster_centers_"):  # a fitted scikit-learn model
            return cls(obj.cluster_centers_, {"source": type(obj).__name__})
        raise ValueError(f"{path}: not a k-means model (got {type(obj).__name__})")


class UntrustedPickleError(ValueError):
    """A legacy pickle file was given without ``trust_pickle``."""


NPY_MAGIC = b"\x93NUMPY"


def is_npy_file(path: str) -> bool:
    """Whether the file starts with NumPy's ``.npy`` magic bytes."""
    with open(path, "rb") as f:
        return f.read(len(NPY_MAGIC)) == NPY_MAGIC


def npy_path_for(path: str) -> str:
    """``km.pkl`` -> ``km.npy`` (the name a converted legacy model gets)."""
    root, ext = os.path.splitext(path)
    return (root if ext in (".pkl", ".joblib", ".pickle") else path) + ".npy"


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def fit_kmeans(
    feats: np.ndarray,
    n_clusters: int,
    seed: int = 0,
    backend: str = "auto",
    max_iter: int = 100,
    batch_size: int = 10000,
    n_init: int = 20,
    init: str = "k-means++",
    max_no_improvement: int = 100,
    reassignment_ratio: float = 0.0,
    tol: float = 0.0,
) -> KMeansModel:
    """Fit k-means on (N, D) frames.

    ``backend``: ``sklearn`` (``MiniBatchKMeans`` with the HuBERT recipe's settings),
    ``faiss`` (``faiss.Kmeans``, ``max_iter`` iterations, ``n_init`` restarts), or
    ``auto`` (faiss when importable, else sklearn). Both are deterministic for a seed
    (faiss on CPU with a fixed thread count).
    """
    feats = np.ascontiguousarray(feats, dtype=np.float32)
    if feats.ndim != 2:
        raise ValueError(f"expected (N, D) frames, got {feats.shape}")
    if feats.shape[0] < n_clusters:
        raise ValueError(
            f"{feats.shape[0]} frames are fewer than n_clusters={n_clusters}"
        )
    if backend == "auto":
        backend = "faiss" if faiss_available() else "sklearn"
    t0 = time.time()
    meta: Dict[str, Any] = dict(
        backend=backend, seed=seed, n_train_frames=int(feats.shape[0])
    )
    if backend == "faiss":
        import faiss

        km = faiss.Kmeans(
            feats.shape[1],
            n_clusters,
            niter=max_iter,
            nredo=max(1, n_init),
            seed=seed,
            verbose=False,
            spherical=False,
        )
        km.train(feats)
        centers = np.asarray(km.centroids, dtype=np.float32).reshape(n_clusters, -1)
    elif backend == "sklearn":
        from sklearn.cluster import MiniBatchKMeans

        km = MiniBatchKMeans(
            n_clusters=n_clusters,
            init=init,
            max_iter=max_iter,
            batch_size=batch_size,
            tol=tol,
            max_no_improvement=max_no_improvement,
            n_init=n_init,
            reassignment_ratio=reassignment_ratio,
            random_state=seed,
            compute_labels=False,
            verbose=0,
        )
        km.fit(feats)
        centers = km.cluster_centers_
    else:
        raise ValueError(f"unknown k-means backend {backend!r} (auto, sklearn, faiss)")
    model = KMeansModel(centers, meta)
    model.meta["train_inertia"] = model.inertia(feats)
    model.meta["fit_seconds"] = round(time.time() - t0, 2)
    logging.info(
        "k-means (%s) K=%d on %d frames of dim %d: mean sq. distance %.4f, %.1f s",
        backend,
        n_clusters,
        feats.shape[0],
        feats.shape[1],
        model.meta["train_inertia"],
        model.meta["fit_seconds"],
    )
    return model


def sample_frames(
    utterances: Iterable[np.ndarray],
    max_frames: Optional[int] = None,
    seed: int = 0,
) -> np.ndarray:
    """Uniform seeded sample of at most ``max_frames`` frames from (T, D) arrays."""
    sampler = FrameSampler(max_frames=max_frames, seed=seed)
    for x in utterances:
        sampler.add(x)
    return sampler.result()
