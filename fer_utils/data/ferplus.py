"""The FER+ loader: FER2013 faces with ten crowd-sourced votes each, four label modes.

Two layouts are accepted (``source=``):

* ``"folders"`` (as made by the FER+ release's ``generate_training_data.py``)::

      ferplus/FER2013Train/fer0000000.png ... + label.csv
      ferplus/FER2013Valid/...            + label.csv
      ferplus/FER2013Test/...             + label.csv

  ``label.csv`` has no header; a row is ``fer0000000.png,"(0, 0, 48, 48)",4,0,0,1,3,2,0,0,0,0``:
  image name, face box, then ten vote counts in :data:`VOTE_NAMES` order.
* ``"csv"``: ``ferplus/fer2013.csv`` (``emotion,pixels,Usage``) plus
  ``ferplus/fer2013new.csv`` (``Usage,Image name,neutral,...,unknown,NF``), joined row by
  row; the pixels are decoded from the csv.

``"auto"`` (default) uses the folders when all three exist, else the two csv files.

The pieces live in their own modules and their public names are re-exported here:
the label modes in :mod:`fer_utils.data.ferplus_votes` (after the FER+ reference reader,
``src/ferplus.py`` of the FER+ release), the file readers in
:mod:`fer_utils.data.ferplus_files`, the duplicate report in
:mod:`fer_utils.data.ferplus_duplicates`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from fer_utils.data.dataset import CANONICAL_CLASSES, FERDataset
from fer_utils.data.ferplus_duplicates import _twins_of_train, duplicate_report
from fer_utils.data.ferplus_files import (
    _LAYOUT,
    IMAGE_SIDE,
    N_ANNOTATORS,
    SPLIT_FOLDERS,
    USAGES,
    _read_csv_pair,
    _read_csv_strings,
    _read_folders,
    decode_pixel_rows,
    decode_pixel_rows_hashed,
    read_label_csv,
)
from fer_utils.data.ferplus_votes import (
    LABEL_MODES,
    VOTE_NAMES,
    multi_target_labels,
    process_votes,
    remove_single_votes,
    split_targets,
    vote_distributions,
)
from fer_utils.data.io import (
    check_choice,
    check_image_size,
    decode_images_hashed,
    find_dataset_dir,
    logger,
    report_dropped,
)

__all__ = [
    "DISTRIBUTION_KINDS",
    "DUPLICATE_OPTIONS",
    "FERPLUS_CLASSES",
    "IMAGE_SIDE",
    "LABEL_MODES",
    "LOADER_VERSION",
    "N_ANNOTATORS",
    "SOURCES",
    "SPLIT_FOLDERS",
    "USAGES",
    "VOTE_NAMES",
    "decode_pixel_rows",
    "decode_pixel_rows_hashed",
    "duplicate_report",
    "load_ferplus",
    "multi_target_labels",
    "process_votes",
    "read_label_csv",
    "remove_single_votes",
    "split_targets",
    "vote_distributions",
]

#: Version 2: the cache also holds the pixel digests (duplicate report).
LOADER_VERSION = 2

#: FER+ classes: the eight canonical emotions, in vote order.
FERPLUS_CLASSES: tuple[str, ...] = CANONICAL_CLASSES
SOURCES: tuple[str, ...] = ("auto", "folders", "csv")
DISTRIBUTION_KINDS: tuple[str, ...] = ("votes", "target")
#: The ``duplicates`` option: keep every image, or drop validation/test images that
#: have a pixel-identical twin in the training split.
DUPLICATE_OPTIONS: tuple[str, ...] = ("keep", "drop")


# --------------------------------------------------------------------------- loading


def _resolve_source(folder: Path, source: str) -> str:
    """Pick the layout: folders when present (``auto``), else the two csv files."""
    has_folders = all((folder / sub / "label.csv").is_file() for sub in SPLIT_FOLDERS.values())
    has_csv = (folder / "fer2013.csv").is_file() and (folder / "fer2013new.csv").is_file()
    if source == "auto":
        if has_folders:
            return "folders"
        if has_csv:
            return "csv"
        raise FileNotFoundError(f"FER+: {folder} holds neither layout; expected {_LAYOUT}")
    return source


def _mark_unusable_rows(names: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Reason per row for empty names (not a face) and repeated names (first kept)."""
    reasons = np.full(len(names), "", dtype=object)
    empty = names == ""
    reasons[empty] = "empty_name"
    repeated = pd.Series(names).duplicated(keep="first").to_numpy() & ~empty
    reasons[repeated] = "duplicate_name"
    return reasons, {"empty_name": int(empty.sum()), "duplicate_name": int(repeated.sum())}


def _folder_images(
    folder: Path,
    table: dict[str, Any],
    usable: np.ndarray,
    image_size: int | None,
    cache: bool,
    cache_dir: str | os.PathLike[str] | None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], list[str], int]:
    """Decode the usable rows' PNGs (and their pixel digests); count PNGs without a row.

    Every PNG must be 48x48: a file of another size is an error naming it.
    """
    rel = [f"{d}/{n}" for d, n in zip(table["dir"][usable], table["names"][usable], strict=True)]
    on_disk: set[str] = set()
    for sub in SPLIT_FOLDERS.values():
        on_disk |= {f"{sub}/{e}" for e in os.listdir(folder / sub) if e.lower().endswith(".png")}
    missing = [r for r in rel if r not in on_disk]
    if missing:
        raise FileNotFoundError(
            f"FER+: {len(missing)} labelled image(s) are missing, e.g. {folder / missing[0]}; "
            f"expected {_LAYOUT}"
        )
    labelled = {f"{d}/{n}" for d, n in zip(table["dir"], table["names"], strict=True)}
    unlabelled = len(on_disk - labelled)
    paths = [folder / r for r in rel]

    def build() -> dict[str, np.ndarray]:
        images, digests = decode_images_hashed(
            paths, image_size, expected_size=(IMAGE_SIDE, IMAGE_SIDE)
        )
        return {"images": images, "digests": digests}

    # imported here, not at the top, so that `python -m fer_utils.data.cache`
    # finds the module not yet imported by the package
    from fer_utils.data.cache import cached_arrays

    arrays, cache_info = cached_arrays(
        "ferplus-folders",
        LOADER_VERSION,
        {"image_size": image_size},
        paths,
        build,
        cache,
        cache_dir,
        label_files=[folder / sub / "label.csv" for sub in SPLIT_FOLDERS.values()],
    )
    return arrays["images"], arrays["digests"], cache_info, rel, unlabelled


def _csv_images(
    folder: Path,
    table: dict[str, Any],
    usable: np.ndarray,
    image_size: int | None,
    cache: bool,
    cache_dir: str | os.PathLike[str] | None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], list[str], int]:
    """Decode the pixels of ``fer2013.csv`` (all rows, cached) and take the usable ones."""
    path = folder / "fer2013.csv"

    def build() -> dict[str, np.ndarray]:
        pixels = _read_csv_strings(path, usecols=["pixels"])["pixels"].tolist()
        images, digests = decode_pixel_rows_hashed(pixels, path, image_size)
        return {"images": images, "digests": digests}

    # imported here, not at the top, so that `python -m fer_utils.data.cache`
    # finds the module not yet imported by the package
    from fer_utils.data.cache import cached_arrays

    arrays, cache_info = cached_arrays(
        "ferplus-csv",
        LOADER_VERSION,
        {"image_size": image_size},
        [path],
        build,
        cache,
        cache_dir,
        label_files=[folder / "fer2013new.csv"],
    )
    names = list(table["names"][usable])
    return arrays["images"][usable], arrays["digests"][usable], cache_info, names, 0


def _counts_by_split(split: np.ndarray, values: np.ndarray) -> dict[str, dict[str, int]]:
    """``{split: {value: count}}`` over the non-empty ``values`` (e.g. drop reasons)."""
    return {
        s: {
            str(v): int(np.sum((split == s) & (values == v)))
            for v in sorted(set(values[split == s]) - {""})
        }
        for s in SPLIT_FOLDERS
    }


def load_ferplus(
    root: str | os.PathLike[str],
    *,
    mode: str = "majority",
    source: str = "auto",
    distributions: str = "votes",
    image_size: int | None = None,
    duplicates: str = "keep",
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> FERDataset:
    """Load FER+: 48x48 gray faces with ten votes each, labelled by a FER+ label mode.

    Args:
        root: the ``ferplus`` folder (or the data root holding it).
        mode: training label mode, one of :data:`LABEL_MODES` (see
            :func:`process_votes`). Validation and test always use ``"majority"``.
        source: ``"auto"`` (folders when present, else csv), ``"folders"`` or ``"csv"``.
        distributions: what ``FERDataset.distributions`` holds: ``"votes"`` (default:
            the eight emotion votes after single-vote removal, normalised; the LDL
            target) or ``"target"`` (the label mode's processed target, one-hot for
            majority; what the FER+ reference trains on).
        image_size: side of the returned images; ``None`` keeps the native 48. Every
            source image must be 48x48 either way (the error names the file).
        duplicates: ``"keep"`` (default: the official splits as published) or
            ``"drop"``: drop every validation or test image that has a pixel-identical
            twin among the training images kept (counted in
            ``dropped["duplicate_of_train"]``).
        cache, cache_dir: see :func:`fer_utils.data.cache.cached_arrays`.

    Returns a :class:`FERDataset` with the eight canonical classes in vote order,
    ``split`` from the folder or ``Usage`` (train / val / test), ``votes`` the raw ten
    counts (``vote_names`` = :data:`VOTE_NAMES`), ``multilabels`` by the multi_target
    rule (:func:`multi_target_labels`), and ``subjects`` None. ``labels`` are the
    argmax of the mode's target (first in vote order on ties; for ``probability`` the
    training code draws from ``distributions="target"`` instead).

    Dropped and counted (``dropped`` and ``info["dropped_by_split"]``): rows with an
    empty image name (not a face), repeated names (the FIRST row of a name is kept, as
    the FER+ folder layout's ``label.csv`` does; later rows are dropped), PNGs without
    a label row, and images the label mode rejects (``only_single_votes``,
    ``no_majority``, ``low_coverage``, ``too_many_emotions``, ``unknown_or_nf``).

    Duplicates (``info["duplicates"]``, see :func:`duplicate_report`): FER2013 holds
    the same face image several times, across splits too. The report counts
    pixel-identical images among the images loaded (after the drops above, before the
    ``duplicates="drop"`` removal), ``info["duplicates"]["before_label_drops"]`` the same
    over every labelled image decoded, and ``"dropped"`` what ``duplicates="drop"``
    removed. Measured on the real folder release on 2026-12-02 (file bytes and decoded
    pixels give the same groups):

    * before the label-mode drops (every labelled PNG: 28,558 / 3,579 / 3,573):
      1,513 groups holding 3,353 images; within one split 1,032 groups (2,256 images)
      in training, 26 (52) in validation, 16 (33) in test; across splits 279
      validation and 288 test images have a twin in training, 44 test images one in
      validation;
    * after the default majority drops (25,045 / 3,191 / 3,137 images): 1,249 groups
      holding 2,739 images; within one split 846 groups (1,831 images) in training,
      23 (46) in validation, 12 (25) in test; across splits 231 validation and 232
      test images have a twin in training (``duplicates="drop"`` removes these 463),
      35 test images one in validation; 117 groups mix different majority labels.
    """
    for name, value, allowed in (
        ("mode", mode, LABEL_MODES),
        ("source", source, SOURCES),
        ("distributions", distributions, DISTRIBUTION_KINDS),
        ("duplicates", duplicates, DUPLICATE_OPTIONS),
    ):
        check_choice(name, value, allowed)
    image_size = check_image_size(image_size)
    markers = (*SPLIT_FOLDERS.values(), "fer2013new.csv", "fer2013.csv")
    folder = find_dataset_dir(root, "ferplus", markers, _LAYOUT)
    source = _resolve_source(folder, source)
    table = _read_folders(folder) if source == "folders" else _read_csv_pair(folder)

    row_reasons, dropped = _mark_unusable_rows(table["names"])
    targets, label_reasons = split_targets(table["votes"], table["split"], mode)
    reasons = np.where(row_reasons != "", row_reasons, label_reasons)
    usable, keep = row_reasons == "", reasons == ""
    read = _folder_images if source == "folders" else _csv_images
    images, digests, cache_info, files, unlabelled = read(
        folder, table, usable, image_size, cache, cache_dir
    )
    before = duplicate_report(digests, table["split"][usable])
    images, digests = images[keep[usable]], digests[keep[usable]]
    files = [f for f, k in zip(files, keep[usable], strict=True) if k]
    for reason in sorted(set(reasons[usable & ~keep])):
        dropped[reason] = int(np.sum(reasons == reason))
    dropped["image_without_label"] = unlabelled
    dropped_by_split = _counts_by_split(table["split"], reasons)

    votes, targets = table["votes"][keep], targets[keep]
    split = table["split"][keep].astype(str)
    labels = np.argmax(targets, axis=1)
    duplicate_info = {
        "policy": duplicates,
        **duplicate_report(digests, split, labels),
        "before_label_drops": before,
        "dropped": 0,
    }
    if duplicates == "drop":
        twin = _twins_of_train(digests, split)
        dropped["duplicate_of_train"] = duplicate_info["dropped"] = int(twin.sum())
        for s in ("val", "test"):
            if np.any(twin & (split == s)):
                dropped_by_split[s]["duplicate_of_train"] = int(np.sum(twin & (split == s)))
        images, votes, targets, split, labels = (
            a[~twin] for a in (images, votes, targets, split, labels)
        )
        files = [f for f, t in zip(files, twin, strict=True) if not t]
    else:
        across = duplicate_info["across"]
        if across["val_in_train"] or across["test_in_train"]:
            logger.info(
                "ferplus: %d validation and %d test image(s) have a pixel-identical twin in "
                "training (info['duplicates']; duplicates='drop' removes them)",
                across["val_in_train"],
                across["test_in_train"],
            )
    dropped = {k: v for k, v in dropped.items() if v}
    dist = vote_distributions(votes) if distributions == "votes" else targets
    report_dropped("ferplus", dropped, folder)
    class_counts = {
        s: dict(
            zip(FERPLUS_CLASSES, np.bincount(labels[split == s], minlength=8).tolist(), strict=True)
        )
        for s in SPLIT_FOLDERS
    }
    info: dict[str, Any] = {
        "root": str(folder),
        "source": source,
        "options": {
            "mode": mode,
            "source": source,
            "distributions": distributions,
            "image_size": image_size,
            "duplicates": duplicates,
        },
        "label_mode": {"train": mode, "val": "majority", "test": "majority"},
        "counts": class_counts,
        "split_sizes": {s: int(np.sum(split == s)) for s in SPLIT_FOLDERS},
        "dropped_by_split": dropped_by_split,
        "duplicates": duplicate_info,
        **cache_info,
    }
    return FERDataset(
        name="ferplus",
        images=torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1),
        labels=torch.from_numpy(labels.astype(np.int64)),
        classes=FERPLUS_CLASSES,
        distributions=torch.from_numpy(np.ascontiguousarray(dist, dtype=np.float32)),
        multilabels=torch.from_numpy(multi_target_labels(votes)),
        split=split,
        votes=torch.from_numpy(votes.astype(np.float32)),
        vote_names=VOTE_NAMES,
        filenames=files,
        dropped=dropped,
        info=info,
    )
