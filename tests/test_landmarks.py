"""Five-point landmarks: the dataset's own, MTCNN on synthetic faces, fallback and cache."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import fer_utils.mfjle.landmarks as lm
from fer_utils.data import FERDataset, load_dataset
from fer_utils.data.synthetic import render_faces
from fer_utils.mfjle.landmarks import (
    CANONICAL_TEMPLATE,
    dataset_landmarks,
    detect_landmarks,
    fallback_landmarks,
    landmark_checks,
    template_landmarks,
)


@pytest.fixture(scope="module")
def faces() -> FERDataset:
    """Twelve 48 x 48 synthetic faces (default difficulty: pose, light and noise)."""
    return load_dataset("synthetic", n=12, seed=2)


def _without_landmarks(ds: FERDataset) -> FERDataset:
    return replace(ds, landmarks=None)


def _eye_distance(points: torch.Tensor) -> torch.Tensor:
    return (points[:, 1] - points[:, 0]).norm(dim=1)


def test_dataset_landmarks_are_returned_unchanged(faces: FERDataset) -> None:
    points, report = dataset_landmarks(faces, cache=False)
    assert points is faces.landmarks  # already float32: the very same tensor
    assert report["source"] == "dataset" and report["n_images"] == 12
    assert report["n_found"] == 12 and report["n_fallback"] == 0
    assert report["fallback_indices"] == [] and report["cache_hit"] is False


def test_template_is_the_synthetic_average_neutral_face() -> None:
    for size in (48, 64, 101):
        weights = np.eye(8, dtype=np.float32)[:1]  # pure neutral, average face, no pose
        _, truth = render_faces(weights, image_size=size)
        torch.testing.assert_close(
            template_landmarks(1, size, size), torch.from_numpy(truth), atol=1e-4, rtol=0
        )
    template = template_landmarks(3, 40, 80)
    assert template.shape == (3, 5, 2) and template.dtype == torch.float32
    torch.testing.assert_close(template[0, 0], torch.tensor([0.375 * 80 - 0.5, 0.45 * 40 - 0.5]))
    assert len(CANONICAL_TEMPLATE) == 5
    assert bool(landmark_checks(template)["all"].all())


def test_fallback_rules() -> None:
    points = torch.arange(4 * 5 * 2, dtype=torch.float32).reshape(4, 5, 2)
    found = torch.tensor([True, False, True, False])
    filled, used = fallback_landmarks(points, found, 64, 64)
    assert used == "detected_mean"
    mean = (points[0] + points[2]) / 2
    torch.testing.assert_close(filled[1], mean)
    torch.testing.assert_close(filled[3], mean)
    torch.testing.assert_close(filled[found], points[found])
    assert not torch.equal(filled, points)  # the input is not modified in place
    filled, used = fallback_landmarks(points, found, 64, 64, rule="template")
    assert used == "template"
    torch.testing.assert_close(filled[1], template_landmarks(1, 64, 64)[0])
    filled, used = fallback_landmarks(points, torch.zeros(4, dtype=torch.bool), 32, 32)
    assert used == "template"  # nothing detected: the mean rule has nothing to average
    torch.testing.assert_close(filled, template_landmarks(4, 32, 32))
    _, used = fallback_landmarks(points, torch.ones(4, dtype=torch.bool), 32, 32)
    assert used == "none"
    with pytest.raises(ValueError, match="fallback rule"):
        fallback_landmarks(points, found, 32, 32, rule="zeros")


def test_blank_images_are_not_found_and_get_the_template() -> None:
    blank = torch.full((3, 1, 48, 48), 128, dtype=torch.uint8)
    points, found = detect_landmarks(blank, batch_size=2)
    assert points.shape == (3, 5, 2) and points.dtype == torch.float32
    assert found.dtype == torch.bool and not bool(found.any())
    torch.testing.assert_close(points, template_landmarks(3, 48, 48))


def test_mtcnn_on_synthetic_faces(faces: FERDataset) -> None:
    """MTCNN on drawn faces, checked against the generator's exact landmarks.

    Recorded behaviour (facenet-pytorch 2.5.3, default settings): all 12 faces are found
    and the mean landmark error is 0.05-0.18 eye distances per face. The assertions
    leave some room for other platforms' floating point.
    """
    points, found = detect_landmarks(faces.images, batch_size=5)  # batches of 5, 5, 2
    assert int(found.sum()) >= 10
    error = (points - faces.landmarks).norm(dim=2).mean(dim=1) / _eye_distance(faces.landmarks)
    assert float(error[found].max()) < 0.35 and float(error[found].mean()) < 0.15
    # image-left first, as in the synthetic data
    assert bool(landmark_checks(points[found])["all"].all())


def test_mixed_batch_missed_face_gets_the_mean_of_the_found(faces: FERDataset) -> None:
    images = faces.images[:4].clone()
    images[2] = 128  # a blank image among faces, in the second batch of 3
    points, found = detect_landmarks(images, batch_size=3)
    assert found.tolist() == [True, True, False, True]
    torch.testing.assert_close(points[2], points[found].mean(dim=0))
    points_t, found_t = detect_landmarks(images, batch_size=3, fallback="template")
    assert torch.equal(found_t, found)
    torch.testing.assert_close(points_t[2], template_landmarks(1, 48, 48)[0])
    torch.testing.assert_close(points_t[found], points[found])


def test_rgb_and_float_inputs_give_the_same_landmarks(faces: FERDataset) -> None:
    gray = faces.images[:3]
    points, found = detect_landmarks(gray)
    rgb_points, rgb_found = detect_landmarks(gray.expand(-1, 3, -1, -1).float())
    assert torch.equal(found, rgb_found)
    torch.testing.assert_close(points, rgb_points)


def test_dataset_landmarks_mtcnn_report_and_cache(
    faces: FERDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = _without_landmarks(faces.subset(range(4)))
    images = ds.images.clone()
    images[1] = 128  # one face MTCNN cannot find
    ds = replace(ds, images=images)
    points, report = dataset_landmarks(ds, cache_dir=tmp_path, batch_size=3)
    assert report["source"] == "mtcnn" and report["n_images"] == 4
    assert report["n_found"] == 3 and report["n_fallback"] == 1
    assert report["fallback"] == "detected_mean" and "mean landmarks" in report["fallback_rule"]
    assert report["fallback_indices"] == [1]
    assert report["fallback_files"] == [ds.filenames[1]]
    assert report["cache_hit"] is False and Path(report["cache"]).is_file()
    assert report["settings"]["min_face_size"] == lm.DEFAULT_MIN_FACE_SIZE

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("MTCNN ran although the cache holds the result")

    monkeypatch.setattr(lm, "detect_landmarks", must_not_run)
    again, report2 = dataset_landmarks(ds, cache_dir=tmp_path, batch_size=2)  # batch: no key
    assert report2["cache_hit"] is True and report2["cache"] == report["cache"]
    assert torch.equal(again, points)
    assert {k: report2[k] for k in ("n_found", "fallback_indices", "fallback")} == {
        k: report[k] for k in ("n_found", "fallback_indices", "fallback")
    }


def test_cache_key_follows_images_and_settings(
    faces: FERDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, object]] = []

    def fake(images: torch.Tensor, **kwargs: object) -> tuple[torch.Tensor, torch.Tensor]:
        calls.append(kwargs)
        n, _, h, w = images.shape
        return template_landmarks(n, h, w), torch.ones(n, dtype=torch.bool)

    monkeypatch.setattr(lm, "detect_landmarks", fake)
    ds = _without_landmarks(faces.subset(range(3)))
    _, first = dataset_landmarks(ds, cache_dir=tmp_path)
    _, same = dataset_landmarks(ds, cache_dir=tmp_path)
    _, other_threshold = dataset_landmarks(ds, cache_dir=tmp_path, thresholds=(0.5, 0.6, 0.7))
    changed = replace(ds, images=ds.images.flip(-1).contiguous())
    _, other_images = dataset_landmarks(changed, cache_dir=tmp_path)
    _, uncached = dataset_landmarks(ds, cache=False)
    assert len(calls) == 4  # first, new thresholds, new images, cache=False
    assert same["cache_hit"] and not other_threshold["cache_hit"]
    assert not other_images["cache_hit"] and other_images["cache"] != first["cache"]
    assert uncached["cache"] is None and uncached["n_found"] == 3
    assert first["fallback"] == "none" and first["n_fallback"] == 0


def test_all_missed_uses_the_template_and_says_so(tmp_path: Path) -> None:
    blank = torch.full((2, 1, 48, 48), 90, dtype=torch.uint8)
    ds = replace(load_dataset("synthetic", n=2, seed=1), images=blank, landmarks=None)
    points, report = dataset_landmarks(ds, cache_dir=tmp_path)
    assert report["n_found"] == 0 and report["fallback"] == "template"
    assert "CANONICAL_TEMPLATE" in report["fallback_rule"]
    torch.testing.assert_close(points, template_landmarks(2, 48, 48))


def test_errors() -> None:
    with pytest.raises(ValueError, match="N x C x H x W"):
        detect_landmarks(torch.zeros(2, 48, 48))
    with pytest.raises(ValueError, match="C = 1 or 3"):
        detect_landmarks(torch.zeros(2, 2, 48, 48))
    with pytest.raises(ValueError, match="fallback rule"):
        detect_landmarks(torch.zeros(1, 1, 48, 48), fallback="nearest")
    with pytest.raises(ValueError, match="batch_size"):
        detect_landmarks(torch.zeros(1, 1, 48, 48), batch_size=0)
    with pytest.raises(ValueError, match="N x 5 x 2"):
        landmark_checks(torch.zeros(2, 4, 2))


def test_landmark_checks_on_exact_landmarks(faces: FERDataset) -> None:
    checks = landmark_checks(faces.landmarks)
    assert set(checks) == {
        "eyes_ordered", "mouth_ordered", "eyes_above_nose", "nose_above_mouth", "all",
    }  # fmt: skip
    assert bool(checks["all"].all())
    swapped = faces.landmarks[:, [1, 0, 2, 3, 4]]
    assert not bool(landmark_checks(swapped)["eyes_ordered"].any())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_mtcnn_on_cuda_agrees_with_cpu(faces: FERDataset) -> None:
    cpu, found_cpu = detect_landmarks(faces.images)
    gpu, found_gpu = detect_landmarks(faces.images.cuda(), device="cuda")
    assert gpu.device.type == "cpu" and torch.equal(found_cpu, found_gpu)
    torch.testing.assert_close(gpu, cpu, atol=0.5, rtol=0)
