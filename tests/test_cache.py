"""The decoded-image cache: reuse, invalidation, corruption, atomic writes; decoding."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fer_utils.data import DatasetFormatError, load_ferplus, load_jaffe
from fer_utils.data import cache as cache_mod
from fer_utils.data.cache import cached_arrays, default_cache_dir
from fer_utils.data.io import decode_images


def _same(a, b) -> None:
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert a.filenames == b.filenames and torch.equal(a.votes, b.votes)


def test_second_load_uses_the_cache_file(copy_written, ferplus_folders, tmp_path) -> None:
    written = copy_written(ferplus_folders[1], tmp_path)
    first = load_ferplus(written, cache_dir=tmp_path / "c")
    second = load_ferplus(written, cache_dir=tmp_path / "c")
    assert not first.info["cache_hit"] and second.info["cache_hit"]
    assert first.info["cache"] == second.info["cache"]
    assert Path(second.info["cache"]).parent == tmp_path / "c"
    assert [p.name for p in (tmp_path / "c").iterdir()] == [Path(first.info["cache"]).name]
    _same(first, second)
    # a different label mode reuses the decoded images; another image size does not
    assert load_ferplus(written, mode="multi_target", cache_dir=tmp_path / "c").info["cache_hit"]
    assert not load_ferplus(written, image_size=40, cache_dir=tmp_path / "c").info["cache_hit"]


def test_changed_source_file_invalidates(copy_written, jaffe_fixture, tmp_path) -> None:
    written = copy_written(jaffe_fixture[1], tmp_path)
    first = load_jaffe(written, cache_dir=tmp_path / "c")
    name = first.filenames[0]
    path = written.root / name
    new = np.full_like(first.images[0, 0].numpy(), 7)
    Image.fromarray(new).save(path, format="TIFF")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    second = load_jaffe(written, cache_dir=tmp_path / "c")
    assert not second.info["cache_hit"] and second.info["cache"] != first.info["cache"]
    assert np.array_equal(second.images[0, 0].numpy(), new)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other_key"])
def test_corrupt_cache_file_is_rebuilt(copy_written, jaffe_fixture, tmp_path, caplog, damage):
    written = copy_written(jaffe_fixture[1], tmp_path)
    first = load_jaffe(written, cache_dir=tmp_path / "c")
    path = Path(first.info["cache"])
    if damage == "garbage":
        path.write_bytes(b"\x00not a zip file" * 100)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        np.savez_compressed(path, __key__=np.array("another key"), images=np.zeros((1, 2, 2)))
    with caplog.at_level("WARNING", logger="fer_utils.data"):
        second = load_jaffe(written, cache_dir=tmp_path / "c")
    assert not second.info["cache_hit"] and "rebuilding" in caplog.text
    _same(first, second)
    assert load_jaffe(written, cache_dir=tmp_path / "c").info["cache_hit"]


def test_failed_write_leaves_no_file(monkeypatch, tmp_path) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("killed while writing")

    monkeypatch.setattr(cache_mod.np, "savez_compressed", explode)
    with pytest.raises(RuntimeError):
        cached_arrays("demo", 1, {}, [], lambda: {"x": np.zeros(3)}, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_cache_dir_still_loads(tmp_path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level("WARNING", logger="fer_utils.data"):
        arrays, info = cached_arrays(
            "demo", 1, {}, [], lambda: {"x": np.ones(2)}, cache_dir=blocker
        )
    assert info == {"cache": None, "cache_hit": False} and arrays["x"].sum() == 2
    assert "could not write cache file" in caplog.text


def test_cache_false_and_default_folder(copy_written, jaffe_fixture, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    written = copy_written(jaffe_fixture[1], tmp_path)
    ds = load_jaffe(written, cache=False)
    assert ds.info["cache"] is None and not (tmp_path / "env").exists()
    ds = load_jaffe(written)
    assert Path(ds.info["cache"]).parent == tmp_path / "env"
    monkeypatch.delenv("FER_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "fer_utils"


def test_decode_images_threads_sizes_and_modes(tmp_path) -> None:
    rng = np.random.default_rng(0)
    arrays = rng.integers(0, 256, size=(600, 12, 12), dtype=np.uint8)
    paths = []
    for i, a in enumerate(arrays):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(a).save(paths[-1])
    assert np.array_equal(decode_images(paths, workers=2), arrays)
    assert decode_images(paths[:3], image_size=20).shape == (3, 20, 20)
    assert decode_images(paths[:3], mode="RGB").shape == (3, 12, 12, 3)
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(paths[400])
    with pytest.raises(DatasetFormatError, match="400.png has shape .*image_size"):
        decode_images(paths)
