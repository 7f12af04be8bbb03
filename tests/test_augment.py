"""Batched augmentation: shapes, ranges, determinism and the no-op eval path."""

from __future__ import annotations

import pytest
import torch

from fer_utils.augment import (
    POLICIES,
    AugmentPolicy,
    augment_batch,
    get_policy,
    resize_uint8,
    to_model_input,
)


def _images(n: int = 6, c: int = 1, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, c, size, size), generator=g, dtype=torch.uint8)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize(("channels", "size", "out"), [(1, 32, None), (3, 40, 48), (1, 64, 32)])
def test_shapes_dtype_and_range(policy: str, channels: int, size: int, out: int | None) -> None:
    x = augment_batch(_images(5, channels, size), out, policy, _gen(0))
    side = size if out is None else out
    assert x.shape == (5, channels, side, side)
    assert x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


@pytest.mark.parametrize("policy", ["basic", "ferplus"])
def test_same_seed_same_batch_other_seed_differs(policy: str) -> None:
    imgs = _images()
    a = augment_batch(imgs, None, policy, _gen(1))
    b = augment_batch(imgs, None, policy, _gen(1))
    c = augment_batch(imgs, None, policy, _gen(2))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_eval_path_is_resize_and_scale_only() -> None:
    imgs = _images()
    x = to_model_input(imgs)
    torch.testing.assert_close(x, imgs.float() / 255.0)
    assert torch.equal(augment_batch(imgs, None, "none", _gen(0)), x)
    assert torch.equal(augment_batch(imgs, None, "none", _gen(9)), x)
    # resizing: a constant image stays constant
    const = torch.full((2, 1, 64, 64), 128, dtype=torch.uint8)
    torch.testing.assert_close(to_model_input(const, 32), torch.full((2, 1, 32, 32), 128 / 255))


def test_flip_only_mirrors_or_keeps_each_image() -> None:
    imgs = _images(16)
    x = augment_batch(imgs, None, AugmentPolicy(flip=True), _gen(0))
    ref = imgs.float() / 255.0
    flipped = 0
    for i in range(16):
        if torch.allclose(x[i], ref[i].flip(-1), atol=1e-6):
            flipped += 1
        else:
            torch.testing.assert_close(x[i], ref[i])
    assert 0 < flipped < 16


def test_shift_moves_content_by_whole_pixels_at_most_max_shift() -> None:
    # A single bright pixel in the middle moves by at most max_shift * side (+1 rounding).
    img = torch.zeros(8, 1, 32, 32, dtype=torch.uint8)
    img[:, :, 16, 16] = 255
    x = augment_batch(img, None, AugmentPolicy(max_shift=0.125), _gen(3))
    for i in range(8):
        ys, xs = torch.nonzero(x[i, 0] > 0.05, as_tuple=True)
        assert (ys.float().mean() - 16).abs() <= 5 and (xs.float().mean() - 16).abs() <= 5


def test_brightness_only_scales_intensities() -> None:
    imgs = torch.full((10, 1, 8 * 4, 32), 100, dtype=torch.uint8)
    x = augment_batch(imgs, None, AugmentPolicy(brightness=0.2), _gen(0))
    per_image = x.flatten(1)
    assert torch.allclose(per_image.min(1).values, per_image.max(1).values)  # uniform images
    factors = per_image[:, 0] / (100 / 255)
    assert float(factors.min()) >= 0.8 - 1e-6 and float(factors.max()) <= 1.2 + 1e-6
    assert float(factors.std()) > 0


def test_rotation_keeps_centre_pixel() -> None:
    img = torch.zeros(4, 1, 33, 33, dtype=torch.uint8)
    img[:, :, 16, 16] = 255
    x = augment_batch(img, None, AugmentPolicy(max_rotation=30), _gen(0))
    assert torch.allclose(x[:, 0, 16, 16], torch.ones(4), atol=1e-5)


def test_resize_uint8_and_errors() -> None:
    imgs = _images(2, 1, 64)
    small = resize_uint8(imgs, 32)
    assert small.dtype == torch.uint8 and small.shape == (2, 1, 32, 32)
    assert resize_uint8(imgs, 64) is imgs
    with pytest.raises(ValueError, match="uint8"):
        to_model_input(imgs.float())
    with pytest.raises(ValueError, match="basic"):
        get_policy("heavy")
    with pytest.raises(ValueError, match="max_shift"):
        AugmentPolicy(max_shift=0.7)
    with pytest.raises(ValueError, match="fill"):
        AugmentPolicy(fill="mirror")
