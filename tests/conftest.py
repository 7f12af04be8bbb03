"""Shared fixtures: small synthetic datasets written once per session in every layout.

Each ``*_fixture`` returns ``(faces, written)``: the :class:`SyntheticFaces` that were
written and the :class:`WrittenDataset` the writer returned. Tests that modify files
copy a fixture folder to their own ``tmp_path`` first (the ``copy_written`` fixture).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from fer_utils.data import (
    CKPLUS_CLASSES,
    JAFFE_CLASSES,
    RAFML_CLASSES,
    WrittenDataset,
    write_ckplus,
    write_ferplus,
    write_jaffe,
    write_rafml,
)
from fer_utils.data.synthetic import SyntheticFaces, generate_faces

Written = tuple[SyntheticFaces, WrittenDataset]


@pytest.fixture(autouse=True)
def _private_cache_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Keep test caches out of the user's cache folder (real-data tests use the real one)."""
    if request.node.get_closest_marker("realdata") is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fer_cache"))
        yield


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Run a module on one torch thread: tiny models run fastest, and most reliably on a
    busy machine, that way. Use with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def require_real(name: str, marker: str) -> Path:
    """``$FER_DATA_DIR/name``, or skip the calling test when it (or ``marker`` in it) is absent."""
    env = os.environ.get("FER_DATA_DIR")
    if not env:
        pytest.skip("FER_DATA_DIR is not set")
    root = Path(env) / name
    if not (root / marker).exists():
        pytest.skip(f"{root / marker} not found")
    return root


@pytest.fixture
def real_root() -> Callable[[str, str], Path]:
    """:func:`require_real` for tests on real data: ``real_root("jaffe", "jaffedbase")``."""
    return require_real


def _copy_written(written: WrittenDataset, dest: Path) -> WrittenDataset:
    """A copy of a written dataset under ``dest`` (same files and quirks)."""
    target = dest / written.root.name
    shutil.copytree(written.root, target)
    return WrittenDataset(target, dict(written.files), dict(written.quirks))


@pytest.fixture
def copy_written() -> Callable[[WrittenDataset, Path], WrittenDataset]:
    """``copy_written(written, dest)`` copies a session fixture for a test to modify."""
    return _copy_written


@pytest.fixture(scope="session")
def jaffe_fixture(tmp_path_factory: pytest.TempPathFactory) -> Written:
    faces = generate_faces(120, classes=JAFFE_CLASSES, n_subjects=10, seed=11)
    return faces, write_jaffe(tmp_path_factory.mktemp("jaffe_data"), faces)


@pytest.fixture(scope="session")
def ckplus_faces() -> SyntheticFaces:
    return generate_faces(90, classes=("neutral", *CKPLUS_CLASSES), n_subjects=8, seed=12)


@pytest.fixture(scope="session")
def ckplus_fixture(
    tmp_path_factory: pytest.TempPathFactory, ckplus_faces: SyntheticFaces
) -> Written:
    return ckplus_faces, write_ckplus(tmp_path_factory.mktemp("ck_orig"), ckplus_faces)


@pytest.fixture(scope="session")
def ck48_fixture(tmp_path_factory: pytest.TempPathFactory, ckplus_faces: SyntheticFaces) -> Written:
    written = write_ckplus(tmp_path_factory.mktemp("ck48"), ckplus_faces, layout="ck48")
    return ckplus_faces, written


@pytest.fixture(scope="session")
def ferplus_faces() -> SyntheticFaces:
    return generate_faces(150, difficulty=0.9, seed=13)


@pytest.fixture(scope="session")
def ferplus_folders(
    tmp_path_factory: pytest.TempPathFactory, ferplus_faces: SyntheticFaces
) -> Written:
    written = write_ferplus(tmp_path_factory.mktemp("fp_folders"), ferplus_faces, "folders")
    return ferplus_faces, written


@pytest.fixture(scope="session")
def ferplus_csv(tmp_path_factory: pytest.TempPathFactory, ferplus_faces: SyntheticFaces) -> Written:
    written = write_ferplus(tmp_path_factory.mktemp("fp_csv"), ferplus_faces, "csv")
    return ferplus_faces, written


@pytest.fixture(scope="session")
def rafml_fixture(tmp_path_factory: pytest.TempPathFactory) -> Written:
    faces = generate_faces(60, classes=RAFML_CLASSES, seed=14)
    return faces, write_rafml(tmp_path_factory.mktemp("rafml_data"), faces)
