"""The five local crops of MF-JLE: right pixels, shapes, errors, one batched sampling call."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from fer_utils.data import load_dataset  # noqa: E402
from fer_utils.mfjle.crops import FACE_WIDTH_PER_EYE_DISTANCE, crop_boxes, crop_sides, local_crops
from fer_utils.viz.crops import crop_overlay, crop_strip  # noqa: E402

# integer landmarks well inside a 64 x 64 image, in LANDMARK_NAMES order
POINTS = torch.tensor([[20.0, 24.0], [44.0, 24.0], [32.0, 36.0], [24.0, 48.0], [40.0, 48.0]])


def _dots(n: int, channels: int, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Black uint8 images with one bright pixel at each of five landmarks (shifted per image)."""
    images = torch.zeros(n, channels, size, size, dtype=torch.uint8)
    landmarks = POINTS.repeat(n, 1, 1) + (torch.arange(n) % 8).float()[:, None, None]
    for i in range(n):
        for x, y in landmarks[i].long().tolist():
            images[i, :, y, x] = 255
    return images, landmarks


@pytest.mark.parametrize("channels", [1, 3])
def test_centre_of_each_crop_is_the_landmark_pixel(channels: int) -> None:
    images, landmarks = _dots(4, channels)
    crops = local_crops(images, landmarks, out_size=9)  # odd: a pixel sits at the centre
    assert crops.shape == (4, 5, channels, 9, 9) and crops.dtype == torch.float32
    assert torch.all(crops[..., 4, 4] == 255)
    # side 16 px over 9 output pixels: no other bright pixel falls inside any crop
    off_centre = crops.clone()
    off_centre[..., 4, 4] = 0
    assert off_centre.max() < 255


def test_crop_of_a_ramp_has_the_centre_as_mean() -> None:
    """Pixel value = its x (or y) coordinate; bilinear sampling of a ramp is exact."""
    size = 64
    ramp_x = torch.arange(size, dtype=torch.float64).expand(size, size)
    images = torch.stack([ramp_x, ramp_x.T])[None].repeat(3, 1, 1, 1)  # channel 0: x, 1: y
    landmarks = POINTS.double().repeat(3, 1, 1) + torch.tensor([0.0, 0.3, 2.7])[:, None, None]
    crops = local_crops(images, landmarks, out_size=12, crop_fraction=0.3)
    assert crops.dtype == torch.float64
    means = crops.mean(dim=(-1, -2))  # N x 5 x 2
    torch.testing.assert_close(means, landmarks)
    # the crop spans side = 0.3 * 64 pixels: first and last samples half a step inside
    side, step = 0.3 * size, 0.3 * size / 12
    row = crops[0, 2, 0, 0]
    torch.testing.assert_close(row[0], landmarks[0, 2, 0] - side / 2 + step / 2)
    torch.testing.assert_close(row[-1], landmarks[0, 2, 0] + side / 2 - step / 2)


def _sliced_reference(
    images: torch.Tensor, landmarks: torch.Tensor, side: int
) -> torch.Tensor:
    """Slow reference: slice a side x side window whose centre is each (half-integer) landmark."""
    n, c, h, w = images.shape
    padded = torch.zeros(n, c, h + 2 * side, w + 2 * side)
    padded[:, :, side : side + h, side : side + w] = images.float()
    out = torch.zeros(n, 5, c, side, side)
    for i in range(n):
        for k in range(5):
            x0 = int(round(float(landmarks[i, k, 0]) - side / 2 + 0.5)) + side
            y0 = int(round(float(landmarks[i, k, 1]) - side / 2 + 0.5)) + side
            out[i, k] = padded[i, :, y0 : y0 + side, x0 : x0 + side]
    return out


def test_synthetic_eye_crops_match_direct_slicing() -> None:
    """On the synthetic faces' own landmarks, moved to the nearest pixel-aligned centre.

    With side = out_size = 16 (a quarter of 64) each output pixel samples exactly one
    pixel centre when the crop centre is a half-integer, so grid_sample equals slicing.
    """
    ds = load_dataset("synthetic", n=12, image_size=64, seed=3)
    side = 16
    aligned = torch.round(ds.landmarks - 7.5) + 7.5
    crops = local_crops(ds.images, aligned, out_size=side)
    torch.testing.assert_close(crops, _sliced_reference(ds.images, aligned, side))
    # the eye crops really hold the eyes: the dark iris makes their middle darker than
    # the middle of the same crop moved 10 pixels down onto the cheek
    cheeks = local_crops(ds.images, aligned + torch.tensor([0.0, 10.0]), out_size=side)
    middle = (slice(None), slice(0, 2), slice(None), slice(6, 10), slice(6, 10))
    eyes_mean = crops[middle].mean(dim=(2, 3, 4))
    assert torch.all(eyes_mean < cheeks[middle].mean(dim=(2, 3, 4)) - 10)


def test_uint8_and_float_agree_and_rgb_channels_are_kept() -> None:
    ds = load_dataset("synthetic", n=6, image_size=48, seed=4)
    rgb = torch.cat([ds.images, 255 - ds.images, ds.images // 2], dim=1)
    from_uint8 = local_crops(rgb, ds.landmarks, out_size=10)
    from_float = local_crops(rgb.float() / 255, ds.landmarks, out_size=10)
    torch.testing.assert_close(from_uint8 / 255, from_float)
    assert from_uint8.shape == (6, 5, 3, 10, 10)
    assert 0 <= float(from_uint8.min()) and float(from_uint8.max()) <= 255
    gray = local_crops(ds.images, ds.landmarks, out_size=10)
    torch.testing.assert_close(from_uint8[:, :, 0], gray[:, :, 0])
    torch.testing.assert_close(from_uint8[:, :, 1], 255 - gray[:, :, 0])
    assert from_uint8.is_contiguous()


def test_one_grid_sample_call_for_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = F.grid_sample

    def counting(*args: object, **kwargs: object) -> torch.Tensor:
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "grid_sample", counting)
    images, landmarks = _dots(50, 1)
    local_crops(images, landmarks, out_size=8)
    assert calls == [torch.Size([50, 1, 64, 64])]  # one call, images not copied 5 times


def test_padding_modes_outside_the_image() -> None:
    images = torch.full((1, 1, 32, 32), 100, dtype=torch.uint8)
    corner = torch.zeros(1, 5, 2)  # every crop centred on the top-left pixel
    zeros = local_crops(images, corner, out_size=8, padding_mode="zeros")
    border = local_crops(images, corner, out_size=8, padding_mode="border")
    assert float(zeros[0, 0, 0, 0, 0]) == 0 and float(zeros[0, 0, 0, -1, -1]) == 100
    assert torch.all(border == 100)


def test_crop_sides_and_boxes() -> None:
    landmarks = POINTS.repeat(2, 1, 1)
    sides = crop_sides(landmarks, 64)
    torch.testing.assert_close(sides, torch.full((2,), 16.0))
    boxes = crop_boxes(landmarks, 64)
    assert boxes.shape == (2, 5, 4)
    torch.testing.assert_close((boxes[..., :2] + boxes[..., 2:]) / 2, landmarks)
    torch.testing.assert_close(boxes[..., 2] - boxes[..., 0], torch.full((2, 5), 16.0))
    # (height, width): the face width is the image width
    wide = crop_boxes(landmarks, (64, 128), crop_fraction=0.5)
    torch.testing.assert_close(wide[..., 3] - wide[..., 1], torch.full((2, 5), 64.0))
    by_eyes = crop_sides(landmarks, 64, 0.25, face_width="landmarks")
    torch.testing.assert_close(by_eyes, torch.full((2,), 0.25 * FACE_WIDTH_PER_EYE_DISTANCE * 24))
    per_face = crop_sides(landmarks, 64, 0.5, face_width=torch.tensor([10.0, 20.0]))
    torch.testing.assert_close(per_face, torch.tensor([5.0, 10.0]))
    fixed = crop_sides(landmarks, 64, 0.5, face_width=40)
    torch.testing.assert_close(fixed, torch.full((2,), 20.0))


def test_face_width_changes_the_crop_side() -> None:
    size = 64
    ramp = torch.arange(size, dtype=torch.float32).expand(1, 1, size, size)
    landmarks = POINTS[None]
    crops = local_crops(ramp, landmarks, out_size=2, face_width=32.0)  # side 8
    torch.testing.assert_close(crops[0, 0, 0, 0], POINTS[0, 0] + torch.tensor([-2.0, 2.0]))


@pytest.mark.parametrize(
    "images, landmarks, kwargs, match",
    [
        (torch.zeros(2, 64, 64), torch.zeros(2, 5, 2), {}, "N x C x H x W"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 4, 2), {}, "N x 5 x 2"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(3, 5, 2), {}, "3 rows but there are 2"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"crop_fraction": 0.0}, "crop_fraction"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"crop_fraction": 1.5}, "crop_fraction"),
        (
            torch.zeros(2, 1, 64, 64),
            torch.zeros(2, 5, 2),
            {"crop_fraction": float("nan")},
            "crop_fraction",
        ),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"out_size": 0}, "out_size"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"out_size": 8.0}, "out_size"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"padding_mode": "wrap"}, "padding"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"mode": "area"}, "mode"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"face_width": "face"}, "face_width"),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"face_width": -3.0}, "positive"),
        (
            torch.zeros(2, 1, 64, 64),
            torch.zeros(2, 5, 2),
            {"face_width": torch.ones(3)},
            "face_width",
        ),
        (torch.zeros(2, 1, 64, 64), torch.zeros(2, 5, 2), {"face_width": "landmarks"}, "positive"),
    ],
)
def test_errors(images: torch.Tensor, landmarks: torch.Tensor, kwargs: dict, match: str) -> None:
    options = {"out_size": 8, **kwargs}
    with pytest.raises(ValueError, match=match):
        local_crops(images, landmarks, **options)


def test_landmarks_must_be_a_tensor() -> None:
    with pytest.raises(TypeError, match="torch.Tensor"):
        crop_boxes([[0.0, 0.0]] * 5, 64)  # type: ignore[arg-type]


def test_no_grad_needed_but_gradients_flow() -> None:
    images = torch.rand(2, 3, 32, 32, requires_grad=True)
    crops = local_crops(images, POINTS[None].repeat(2, 1, 1) / 2, out_size=6)
    crops.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    with torch.no_grad():
        assert not local_crops(images, POINTS[None].repeat(2, 1, 1) / 2, out_size=6).requires_grad


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu() -> None:
    ds = load_dataset("synthetic", n=8, image_size=64, seed=5)
    cpu = local_crops(ds.images, ds.landmarks, out_size=16)
    gpu = local_crops(ds.images.cuda(), ds.landmarks, out_size=16)  # landmarks moved along
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-3, rtol=1e-4)


def test_crop_plots() -> None:
    ds = load_dataset("synthetic", n=5, image_size=48, seed=6)
    found = torch.tensor([True, False, True, True, True])
    fig = crop_overlay(ds.images, ds.landmarks, 0.25, n=3, found=found)
    assert len(fig.axes[0].patches) == 5 and "fallback" in fig.axes[1].get_title()
    plt.close(fig)
    fig = crop_strip(local_crops(ds.images, ds.landmarks, out_size=12), n=2)
    assert len(fig.axes) == 10
    plt.close(fig)
    with pytest.raises(ValueError, match="N x 5"):
        crop_strip(torch.zeros(2, 4, 1, 8, 8))
