"""Five-point facial landmarks for MF-JLE: from the dataset, or found by MTCNN.

Introduced in notebook 05 (MF-JLE ensemble). Paper B centres its five local crops on
five landmarks found by MTCNN. Datasets that ship landmarks (the built-in synthetic
faces, RAF-ML) keep their own; for the others (JAFFE, CK+, FER+)
:func:`dataset_landmarks` runs MTCNN (the ``facenet-pytorch`` implementation, whose
weights come inside its wheel, so nothing is downloaded) and caches the result.

Conventions, the same as :class:`fer_utils.data.FERDataset`:

* Order: :data:`fer_utils.data.LANDMARK_NAMES` = left eye, right eye, nose tip, left
  mouth corner, right mouth corner.
* "Left" and "right" are the *image's* left and right (the smaller and the larger x),
  not the subject's: the "left eye" is the subject's right eye. The synthetic generator
  uses this convention, and so does MTCNN, whose first point is the eye on the image's
  left. :func:`detect_landmarks` keeps MTCNN's order and does not re-sort the points;
  the real-data test checks that the left eye has the smaller x on every JAFFE face.
* Coordinates: ``(x, y)`` in pixels of the input image, x to the right and y down,
  pixel centres at integer coordinates (``(0, 0)`` is the centre of the top-left pixel).
  MTCNN's own output follows this to within about a pixel.

**Small images.** MTCNN was trained on faces of 12 pixels and up inside larger photos,
and its first stage looks at 12 x 12 windows. A 48 x 48 FER+ face fills its whole frame,
which MTCNN finds less reliably and places less accurately. Images whose shorter side is
below ``min_side`` (default 128) are therefore upsampled (bilinear) to that size before
detection, and the landmarks are mapped back to the original pixel grid. In a trial on
200 synthetic 48 x 48 faces (default difficulty) this found 188 faces instead of 147 and
brought the median landmark error from 0.14 to 0.09 eye distances, at about twice the
detection time.

**Faces MTCNN misses.** A face without a detection still needs five points, or it could
not be cropped. Such rows are filled by a fallback rule and flagged ``found=False``;
they are never dropped, and :func:`dataset_landmarks` reports how many there are and
which ones:

* ``"detected_mean"`` (default): the mean landmark positions of the faces that *were*
  detected in the same call (all images of one call have the same size, so the mean is
  taken in pixels). This adapts to how a dataset frames its faces (a JAFFE face fills
  about half of the image, a FER+ face all of it). When no face at all was detected,
  the template below is used instead.
* ``"template"``: always :data:`CANONICAL_TEMPLATE`, scaled to the image size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from fer_utils.data.cache import cached_arrays
from fer_utils.data.dataset import LANDMARK_NAMES, FERDataset

logger = logging.getLogger(__name__)

__all__ = [
    "CANONICAL_TEMPLATE",
    "DEFAULT_MIN_FACE_SIZE",
    "DEFAULT_MIN_SIDE",
    "DEFAULT_THRESHOLDS",
    "FALLBACK_RULES",
    "LANDMARK_NAMES",
    "dataset_landmarks",
    "detect_landmarks",
    "fallback_landmarks",
    "landmark_checks",
    "template_landmarks",
]

#: Where the five landmarks sit on a centred, upright, frame-filling face, as fractions
#: of the image width (x) and height (y), measured from the top-left corner of the
#: image (0 = left or top edge, 1 = right or bottom edge). These are the landmarks of the
#: synthetic generator's average neutral face in its neutral pose
#: (``fer_utils.data.synthetic.average_identity`` and ``neutral_pose``): eyes a quarter
#: of the width apart, 45% of the way down; nose tip at 60%; mouth corners at 72%. A
#: test checks that they match the generator. They suit images that are tight face
#: crops (FER+, CK+48, the synthetic faces); a loosely framed face (JAFFE) is better
#: served by the ``"detected_mean"`` rule.
CANONICAL_TEMPLATE: tuple[tuple[float, float], ...] = (
    (0.375, 0.45),  # left eye (image left)
    (0.625, 0.45),  # right eye
    (0.500, 0.60),  # nose tip
    (0.405, 0.72),  # left mouth corner
    (0.595, 0.72),  # right mouth corner
)

#: The fallback rules :func:`detect_landmarks` accepts (see the module docstring).
FALLBACK_RULES: tuple[str, ...] = ("detected_mean", "template")

#: MTCNN's three stage thresholds (P-, R-, O-net face probability), its published ones.
DEFAULT_THRESHOLDS: tuple[float, float, float] = (0.6, 0.7, 0.7)

#: Smallest face MTCNN looks for, in pixels of the (possibly upsampled) detection image.
#: Our images are face crops, so the face is large; a bigger value also means fewer
#: pyramid levels and far fewer candidate boxes, i.e. much faster detection.
DEFAULT_MIN_FACE_SIZE: float = 40.0

#: Images whose shorter side is below this are upsampled to it before detection.
DEFAULT_MIN_SIDE: int = 128

#: Bumped when what the cache stores, or how it is computed, changes.
_CACHE_VERSION = 1


def _check_images(images: torch.Tensor) -> torch.Tensor:
    """``images`` as given, after checking it is ``N x C x H x W`` with C = 1 or 3."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor N x C x H x W with C = 1 or 3, got {shape}")
    return images


def template_landmarks(n: int, height: int, width: int) -> torch.Tensor:
    """:data:`CANONICAL_TEMPLATE` in pixels of an ``height x width`` image, ``n x 5 x 2``.

    A relative position ``r`` becomes pixel ``r * size - 0.5``
    (pixel centres at integer coordinates), so the template is exact for any image size.
    """
    rel = torch.tensor(CANONICAL_TEMPLATE, dtype=torch.float32)
    size = torch.tensor([float(width), float(height)])
    return (rel * size - 0.5).expand(n, -1, -1).clone()


def fallback_landmarks(
    landmarks: torch.Tensor,
    found: torch.Tensor,
    height: int,
    width: int,
    rule: str = "detected_mean",
) -> tuple[torch.Tensor, str]:
    """Fill the rows of ``landmarks`` where ``found`` is False; return them and the rule used.

    ``rule`` is one of :data:`FALLBACK_RULES`. The returned
    name is ``"detected_mean"`` or ``"template"`` (``"detected_mean"`` falls back to
    ``"template"`` when nothing was found), or ``"none"`` when every face was found.
    The input is not modified.
    """
    if rule not in FALLBACK_RULES:
        raise ValueError(f"unknown fallback rule {rule!r}; expected one of {FALLBACK_RULES}")
    out = landmarks.clone()
    missing = ~found
    if not bool(missing.any()):
        return out, "none"
    if rule == "detected_mean" and bool(found.any()):
        fill = landmarks[found].mean(dim=0)
        used = "detected_mean"
    else:
        fill = template_landmarks(1, height, width)[0]
        used = "template"
    out[missing] = fill.to(out.dtype)
    return out, used


@lru_cache(maxsize=4)
def _mtcnn(
    min_face_size: float, thresholds: tuple[float, ...], factor: float, device: str
) -> Any:
    """One MTCNN detector per setting and device, built once (loading weights is slow)."""
    from facenet_pytorch import MTCNN

    return MTCNN(
        min_face_size=min_face_size,
        thresholds=list(thresholds),
        factor=factor,
        select_largest=False,
        keep_all=True,
        device=torch.device(device),
    ).eval()


def _detection_batch(images: torch.Tensor, scale: float, device: torch.device) -> torch.Tensor:
    """A batch as MTCNN wants it: float 0..255, ``B x H' x W' x 3``, upsampled by ``scale``."""
    x = images.to(device=device, dtype=torch.float32)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if scale != 1.0:
        size = (round(x.shape[2] * scale), round(x.shape[3] * scale))
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    return x.permute(0, 2, 3, 1).contiguous()


def detect_landmarks(
    images: torch.Tensor,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    progress: bool = False,
    *,
    min_face_size: float = DEFAULT_MIN_FACE_SIZE,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    factor: float = 0.709,
    min_side: int = DEFAULT_MIN_SIDE,
    fallback: str = "detected_mean",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Five-point landmarks of every image found by MTCNN, and which faces it found.

    Args:
        images: ``N x C x H x W`` (C = 1 gray or 3 RGB), uint8 or float in 0..255. Gray
            images are repeated to three channels. All images have one size, which lets
            MTCNN process ``batch_size`` of them at once.
        batch_size: images per MTCNN call.
        device: where MTCNN runs (``"cpu"`` or ``"cuda"``).
        progress: show a tqdm bar over the batches.
        min_face_size: smallest face searched for, in pixels of the detection image
            (after upsampling); see :data:`DEFAULT_MIN_FACE_SIZE`.
        thresholds: face-probability thresholds of MTCNN's three stages.
        factor: scale step of MTCNN's image pyramid.
        min_side: images whose shorter side is below this are upsampled to it (bilinear)
            before detection; the landmarks are mapped back to the input's pixel grid.
        fallback: how rows without a detection are filled, one of
            :data:`FALLBACK_RULES` (see :func:`fallback_landmarks`).

    Returns:
        ``(landmarks, found)``: float32 ``N x 5 x 2`` (x, y) pixel coordinates of the
        input images in :data:`LANDMARK_NAMES` order (image-left first), on the CPU, and
        a bool ``N`` tensor. When MTCNN finds several faces in one image, the most
        confident one is kept. Rows with ``found`` False hold the fallback positions.
    """
    images = _check_images(images)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if fallback not in FALLBACK_RULES:
        raise ValueError(f"unknown fallback rule {fallback!r}; expected one of {FALLBACK_RULES}")
    n, _, height, width = images.shape
    device = torch.device(device)
    scale = max(1.0, min_side / min(height, width))
    detector = _mtcnn(float(min_face_size), tuple(float(t) for t in thresholds), float(factor),
                      str(device))
    landmarks = torch.zeros(n, len(LANDMARK_NAMES), 2, dtype=torch.float32)
    found = torch.zeros(n, dtype=torch.bool)
    starts = range(0, n, batch_size)
    for start in tqdm(starts, desc="MTCNN", unit="batch", disable=not progress):
        batch = _detection_batch(images[start : start + batch_size], scale, device)
        _, probs, points = detector.detect(batch, landmarks=True)
        for offset, (p, pts) in enumerate(zip(probs, points, strict=True)):
            if pts is None or len(pts) == 0:
                continue
            best = int(np.argmax(np.asarray(p, dtype=np.float64)))
            xy = torch.as_tensor(np.asarray(pts[best], dtype=np.float32))
            # pixel centres at integers on both grids: x_in = (x_det + 0.5) / s - 0.5
            landmarks[start + offset] = (xy + 0.5) / scale - 0.5
            found[start + offset] = True
    landmarks, _ = fallback_landmarks(landmarks, found, height, width, fallback)
    return landmarks, found


def _images_digest(images: torch.Tensor) -> str:
    """SHA-256 of the images' shape, dtype and bytes: the cache key of a detection job."""
    array = np.ascontiguousarray(images.detach().cpu().numpy())
    h = hashlib.sha256(f"{array.shape}|{array.dtype}|".encode())
    h.update(memoryview(array).cast("B"))
    return h.hexdigest()


def _package_version() -> str:
    """The installed facenet-pytorch version (part of the cache key)."""
    try:
        return metadata.version("facenet-pytorch")
    except metadata.PackageNotFoundError:
        return "unknown"


def dataset_landmarks(
    dataset: FERDataset,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    batch_size: int = 64,
    progress: bool = False,
    *,
    device: str | torch.device = "cpu",
    min_face_size: float = DEFAULT_MIN_FACE_SIZE,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    factor: float = 0.709,
    min_side: int = DEFAULT_MIN_SIDE,
    fallback: str = "detected_mean",
) -> tuple[torch.Tensor, dict[str, Any]]:
    """The five landmarks of every face of ``dataset`` and a report of where they came from.

    Introduced in notebook 05. A dataset that has ``landmarks`` (synthetic, RAF-ML)
    returns them unchanged, as float32. Otherwise MTCNN finds them
    (:func:`detect_landmarks`, whose keyword arguments these are) and the result goes
    through the dataset cache (:func:`fer_utils.data.cache.cached_arrays`). The cache
    key holds a SHA-256 hash of the image bytes (a dataset need not have source files)
    and the detector settings that change the result (thresholds, ``min_face_size``,
    ``factor``, ``min_side``, the fallback rule, the facenet-pytorch version); batch
    size, device and progress do not enter it. A cache hit does not run MTCNN.

    The report holds: ``source`` (``"dataset"`` or ``"mtcnn"``), ``n_images``,
    ``n_found``, ``n_fallback``, ``fallback`` (the rule that filled the missed faces:
    ``"detected_mean"``, ``"template"`` or ``"none"``), ``fallback_rule`` (a sentence
    saying what it did), ``fallback_indices`` and ``fallback_files`` (the missed faces,
    by index and by ``dataset.filenames`` when there are any), ``cache`` and
    ``cache_hit``, ``settings`` and ``seconds`` (time spent, detection or cache read).
    """
    n = len(dataset)
    _, _, height, width = dataset.images.shape
    report: dict[str, Any] = {"dataset": dataset.name, "n_images": n}
    if dataset.landmarks is not None:
        report.update(
            source="dataset",
            n_found=n,
            n_fallback=0,
            fallback="none",
            fallback_rule="the dataset's own landmarks; nothing was detected",
            fallback_indices=[],
            fallback_files=[],
            cache=None,
            cache_hit=False,
            settings=None,
            seconds=0.0,
        )
        return dataset.landmarks.to(torch.float32), report

    settings: dict[str, Any] = {
        "min_face_size": float(min_face_size),
        "thresholds": [float(t) for t in thresholds],
        "factor": float(factor),
        "min_side": int(min_side),
        "fallback": fallback,
        "facenet_pytorch": _package_version(),
    }
    started = time.perf_counter()
    options = {"images_sha256": _images_digest(dataset.images), **settings}

    def build() -> dict[str, np.ndarray]:
        points, hit = detect_landmarks(
            dataset.images,
            batch_size=batch_size,
            device=device,
            progress=progress,
            min_face_size=min_face_size,
            thresholds=thresholds,
            factor=factor,
            min_side=min_side,
            fallback=fallback,
        )
        return {"landmarks": points.numpy(), "found": hit.numpy()}

    arrays, cache_info = cached_arrays(
        "landmarks_mtcnn", _CACHE_VERSION, options, [], build, cache=cache, cache_dir=cache_dir
    )
    landmarks = torch.from_numpy(np.asarray(arrays["landmarks"], dtype=np.float32))
    found = torch.from_numpy(np.asarray(arrays["found"], dtype=bool))
    missing = np.flatnonzero(~found.numpy()).tolist()
    if not missing:
        used = "none"
    elif fallback == "detected_mean" and bool(found.any()):
        used = "detected_mean"
    else:
        used = "template"
    rule = {
        "none": "MTCNN found every face; no fallback was needed",
        "detected_mean": (
            f"{len(missing)} missed face(s) got the mean landmarks of the {n - len(missing)} "
            "detected faces"
        ),
        "template": (
            f"{len(missing)} missed face(s) got the canonical template "
            "(fer_utils.mfjle.landmarks.CANONICAL_TEMPLATE)"
        ),
    }[used]
    files = [dataset.filenames[i] for i in missing] if dataset.filenames is not None else []
    report.update(
        source="mtcnn",
        n_found=n - len(missing),
        n_fallback=len(missing),
        fallback=used,
        fallback_rule=rule,
        fallback_indices=missing,
        fallback_files=files,
        cache=cache_info["cache"],
        cache_hit=cache_info["cache_hit"],
        settings=settings,
        seconds=round(time.perf_counter() - started, 3),
    )
    if missing:
        logger.warning("%s: MTCNN missed %d of %d faces; %s", dataset.name, len(missing), n, rule)
    return landmarks, report


def landmark_checks(landmarks: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-face plausibility checks of ``N x 5 x 2`` landmarks of upright faces.

    Returns bool ``N`` tensors: ``eyes_ordered`` (left eye x
    < right eye x), ``mouth_ordered`` (left corner x < right corner x),
    ``eyes_above_nose`` (both eyes have smaller y than the nose tip),
    ``nose_above_mouth`` (the nose tip has smaller y than both mouth corners) and
    ``all`` (every check passes).
    """
    if landmarks.ndim != 3 or tuple(landmarks.shape[1:]) != (len(LANDMARK_NAMES), 2):
        raise ValueError(f"landmarks must be N x 5 x 2, got {tuple(landmarks.shape)}")
    x, y = landmarks[..., 0], landmarks[..., 1]
    checks = {
        "eyes_ordered": x[:, 0] < x[:, 1],
        "mouth_ordered": x[:, 3] < x[:, 4],
        "eyes_above_nose": torch.maximum(y[:, 0], y[:, 1]) < y[:, 2],
        "nose_above_mouth": y[:, 2] < torch.minimum(y[:, 3], y[:, 4]),
    }
    checks["all"] = torch.stack(list(checks.values())).all(dim=0)
    return checks
