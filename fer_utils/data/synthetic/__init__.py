"""Built-in synthetic facial-expression data whose true label distribution is known.

Introduced in notebook 01 (data exploration). No real dataset can be downloaded at run
time, so every notebook and test defaults to these procedurally drawn faces.

How a face is made:

1. **Expression.** Each emotion has a *prototype*: a small vector of expression features
   (brow raise, eye openness, mouth curvature, ...; see :data:`EXPRESSION_FEATURES` and
   :data:`EXPRESSION_PROTOTYPES`). Neutral is the rest face, all zeros. An image's face
   is rendered from the blend ``sum_k w_k * prototype_k``, where ``w`` is that image's
   *true* label distribution.
2. **Distribution.** A dominant emotion is drawn from the class shares (uniform, FER+ or
   JAFFE shares of paper A's Table 1, or your own weights); up to two secondary emotions
   are drawn with probability proportional to ``exp(-d)``, ``d`` their distance from the
   dominant one on Plutchik's emotion wheel (neutral is 3 from everything). The higher
   ``difficulty``, the more weight the secondary emotions take.

   ``secondary`` (one of :data:`SECONDARY_MODES`) says how the secondary emotions are
   chosen. ``"wheel"`` (default) is the rule above. Because MixFeature builds its
   targets from the same Plutchik wheel (notebook 02), part of its advantage in KL on
   these faces is built into the data; ``"random"`` removes that: the
   secondary emotions are drawn uniformly from the other emotions, while everything
   else (how many, their weights, the random stream) stays as under ``"wheel"``. So for
   one seed the two modes give the same dominant emotions and the same weights, and
   differ only in *which* emotions receive the secondary weight (and in the pixels and
   votes that follow from that). See ``docs/replication.md`` D25.
3. **Identity.** Each of ``n_subjects`` subjects has its own face shape (face size, eye
   spacing, mouth width, brow thickness, skin and hair tone, ...).
4. **Pose, light and noise.** Every image gets its own shift, scale, in-plane rotation,
   lighting gradient, brightness, contrast, backdrop and pixel noise, all growing with
   ``difficulty`` (none at 0).

Shapes (ellipses and thick curves) are evaluated as smooth coverage fields on the pixel
grid with numpy broadcasting, many images at once; nothing loops over images. The five
landmarks are exact: they are the model's own eye centres, nose tip and mouth corners
pushed through the same pose transform as the pixels. "Left" and "right" mean the image's
left and right (smaller and larger x).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from fer_utils.data.dataset import CANONICAL_CLASSES, LANDMARK_NAMES, FERDataset
from fer_utils.data.dataset import check_classes as check_classes
from fer_utils.data.splits import train_val_test_split
from fer_utils.data.synthetic.distributions import (
    FERPLUS_SHARES,
    JAFFE_SHARES,
    SECONDARY_MODES,
    _sample_distributions,
    class_shares,
)
from fer_utils.data.synthetic.expression import (
    EXPRESSION_FEATURES,
    EXPRESSION_PROTOTYPES,
    _check_classes,
    prototype_matrix,
)
from fer_utils.data.synthetic.geometry import _face_geometry as _face_geometry
from fer_utils.data.synthetic.render import _check_image_size, render_faces
from fer_utils.data.synthetic.render import _render_chunk as _render_chunk
from fer_utils.data.synthetic.variation import (
    _BASE_IDENTITY_VARIETY,
    DIFFICULTY_SCALES,
    IDENTITY_FEATURES,
    POSE_FIELDS,
    SCENE_FIELDS,
    _sample_poses,
    _sample_scenes,
    average_identity,
    difficulty_amounts,
    neutral_pose,
    plain_scene,
    sample_identities,
)
from fer_utils.mixfeature.wheel import distance_matrix as distance_matrix
from fer_utils.published import TABLE1_SHARES as TABLE1_SHARES

# The ``name as name`` imports keep names of the former single module in this namespace
# (the tests reach ``_face_geometry``, ``_render_chunk`` and ``distance_matrix`` here).
__all__ = [
    "CANONICAL_CLASSES",
    "DIFFICULTY_SCALES",
    "EXPRESSION_FEATURES",
    "EXPRESSION_PROTOTYPES",
    "FERPLUS_SHARES",
    "IDENTITY_FEATURES",
    "JAFFE_SHARES",
    "LANDMARK_NAMES",
    "POSE_FIELDS",
    "SCENE_FIELDS",
    "SECONDARY_MODES",
    "SyntheticFaces",
    "average_identity",
    "class_shares",
    "difficulty_amounts",
    "generate_faces",
    "load_synthetic",
    "neutral_pose",
    "plain_scene",
    "prototype_matrix",
    "render_faces",
    "sample_identities",
]


@dataclass
class SyntheticFaces:
    """Synthetic faces with their true label distributions (see :func:`generate_faces`).

    Attributes:
        images: uint8 ``N x H x W`` grey images.
        labels: int64 ``N``, the argmax of ``distributions`` (index into ``classes``).
        distributions: float32 ``N x K``, the true distribution each face was rendered from.
        votes: int64 ``N x K``, ``n_votes`` simulated annotator votes per image.
        multilabels: uint8 ``N x K``, ``distributions >= multilabel_threshold`` (the
            argmax label is always set).
        landmarks: float32 ``N x 5 x 2`` exact (x, y) pixel coordinates in
            :data:`LANDMARK_NAMES` order.
        subjects: int64 ``N`` subject ids ``0 .. n_subjects - 1``.
        classes: class names, the column order of every ``K``-wide array.
        params: every generation parameter, for provenance.
    """

    images: np.ndarray
    labels: np.ndarray
    distributions: np.ndarray
    votes: np.ndarray
    multilabels: np.ndarray
    landmarks: np.ndarray
    subjects: np.ndarray
    classes: tuple[str, ...]
    params: dict[str, object]

    def __len__(self) -> int:
        return int(self.images.shape[0])


def _check_generation_args(
    n: int,
    difficulty: float,
    n_subjects: int,
    n_votes: int,
    multilabel_threshold: float,
    secondary: str = "wheel",
) -> None:
    """Raise ``ValueError`` naming the first out-of-range generation parameter."""
    if not isinstance(secondary, str) or secondary not in SECONDARY_MODES:
        raise ValueError(
            f"secondary must be one of {', '.join(repr(m) for m in SECONDARY_MODES)}, "
            f"got {secondary!r}"
        )
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer of at least 1, got {n!r}")
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be in [0, 1], got {difficulty!r}")
    if int(n_subjects) != n_subjects or n_subjects < 1:
        raise ValueError(f"n_subjects must be an integer of at least 1, got {n_subjects!r}")
    if int(n_votes) != n_votes or n_votes < 1:
        raise ValueError(f"n_votes must be an integer of at least 1, got {n_votes!r}")
    if not 0.0 < multilabel_threshold <= 1.0:
        raise ValueError(f"multilabel_threshold must be in (0, 1], got {multilabel_threshold!r}")


def generate_faces(
    n: int = 2000,
    image_size: int = 48,
    classes: Sequence[str] = CANONICAL_CLASSES,
    imbalance: str | Sequence[float] = "uniform",
    difficulty: float = 0.5,
    n_subjects: int = 20,
    n_votes: int = 10,
    multilabel_threshold: float = 0.25,
    seed: int = 0,
    secondary: str = "wheel",
) -> SyntheticFaces:
    """Generate ``n`` synthetic expression images with known true label distributions.

    The default data of every notebook and test.

    Each image gets a dominant emotion (drawn with the ``imbalance`` class shares, see
    :func:`class_shares`) blended with secondary emotions, a subject (face shape), and a
    pose, lighting and noise that grow with ``difficulty`` (0: pure prototypes, clean and
    centred; 1: strong blends, pose, lighting and noise). ``secondary`` picks the
    secondary emotions: ``"wheel"`` (default, near the dominant one on Plutchik's wheel)
    or ``"random"`` (uniformly among the other emotions); see the module docstring. The
    single label is the argmax of the distribution, ``n_votes`` annotator votes are a
    multinomial draw from it, and the multi-hot label marks classes at or above
    ``multilabel_threshold``. The same ``seed`` always gives identical arrays.
    """
    classes = _check_classes(classes)
    image_size = _check_image_size(image_size)
    _check_generation_args(n, difficulty, n_subjects, n_votes, multilabel_threshold, secondary)
    shares = class_shares(imbalance, classes)
    amounts = difficulty_amounts(difficulty)
    rng = np.random.default_rng(seed)

    dominant = rng.choice(len(classes), size=n, p=shares)
    distributions = _sample_distributions(dominant, classes, difficulty, rng, secondary)
    intensity = 1.0 - amounts["intensity_drop"] * rng.uniform(size=(n, 1))
    subjects = rng.permutation(np.arange(n) % n_subjects).astype(np.int64)
    variety = _BASE_IDENTITY_VARIETY + amounts["identity_variety"]
    identities = sample_identities(n_subjects, variety, rng)[subjects]
    poses = _sample_poses(n, amounts, rng)
    scenes = _sample_scenes(n, amounts, rng)
    noise_seed = int(rng.integers(2**31))
    votes = rng.multinomial(n_votes, distributions).astype(np.int64)

    images, landmarks = render_faces(
        intensity * distributions, identities, image_size, classes, poses, scenes, noise_seed
    )
    dist32 = distributions.astype(np.float32)
    dist32 /= dist32.sum(axis=1, keepdims=True)
    labels = dist32.argmax(axis=1).astype(np.int64)
    multilabels = dist32 >= np.float32(multilabel_threshold)
    multilabels[np.arange(n), labels] = True
    params: dict[str, object] = {
        "generator": "fer_utils.data.synthetic.generate_faces",
        "n": int(n),
        "image_size": image_size,
        "classes": list(classes),
        "imbalance": imbalance if isinstance(imbalance, str) else [float(w) for w in imbalance],
        "class_shares": shares.tolist(),
        "difficulty": float(difficulty),
        "n_subjects": int(n_subjects),
        "n_votes": int(n_votes),
        "multilabel_threshold": float(multilabel_threshold),
        "seed": int(seed),
        "secondary": secondary,
        "difficulty_amounts": amounts,
    }
    return SyntheticFaces(
        images=images,
        labels=labels,
        distributions=dist32,
        votes=votes,
        multilabels=multilabels.astype(np.uint8),
        landmarks=landmarks,
        subjects=subjects,
        classes=classes,
        params=params,
    )


def load_synthetic(
    n: int = 2000,
    image_size: int = 48,
    classes: Sequence[str] = CANONICAL_CLASSES,
    imbalance: str | Sequence[float] = "uniform",
    difficulty: float = 0.5,
    n_subjects: int = 20,
    n_votes: int = 10,
    multilabel_threshold: float = 0.25,
    seed: int = 0,
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    secondary: str = "wheel",
) -> FERDataset:
    """:func:`generate_faces` wrapped as an :class:`FERDataset` named ``"synthetic"``.

    The split is grouped by subject (no face is in two splits),
    drawn with ``seed``; subjects are named ``"S00"``, ``"S01"``, ... ``secondary``
    (``"wheel"`` or ``"random"``) goes to :func:`generate_faces`; it reaches this function
    from ``load_dataset("synthetic", secondary="random")`` too, and is recorded in
    ``info["secondary"]``.
    """
    faces = generate_faces(
        n,
        image_size,
        classes,
        imbalance,
        difficulty,
        n_subjects,
        n_votes,
        multilabel_threshold,
        seed,
        secondary=secondary,
    )
    width = max(2, len(str(n_subjects - 1)))
    subjects = np.array([f"S{s:0{width}d}" for s in faces.subjects])
    split = train_val_test_split(len(faces), split_fractions, seed, groups=subjects)
    info = dict(faces.params)
    info["split_fractions"] = list(split_fractions)
    return FERDataset(
        name="synthetic",
        images=torch.from_numpy(faces.images).unsqueeze(1),
        labels=torch.from_numpy(faces.labels),
        classes=faces.classes,
        distributions=torch.from_numpy(faces.distributions),
        multilabels=torch.from_numpy(faces.multilabels.astype(np.float32)),
        subjects=subjects,
        landmarks=torch.from_numpy(faces.landmarks),
        split=split,
        votes=torch.from_numpy(faces.votes.astype(np.float32)),
        vote_names=faces.classes,
        filenames=[f"synthetic_{i:06d}" for i in range(len(faces))],
        dropped={},
        info=info,
    )
