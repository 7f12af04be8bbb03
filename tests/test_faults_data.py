"""Issue 14, "Silent wrong data": loader faults that used to pass unseen.

Each test builds its files with the repository's own writers (synthetic faces in the
real layouts) and checks that the fault is now reported, or handled as documented:

* case 5: a missing class (CK+48 folder, CK+ code, JAFFE code, FER+ vote column);
* case 6: duplicate images (JAFFE, CK+: an error by default; FER+: counted per split);
* case 7: FER+ votes outside 0..10 or summing to more than 10;
* case 8: a stale cache (label files by content; verify and clear);
* case 12: a wrong ``image_size`` and a wrong-sized first image are blamed correctly.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fer_utils.data import (
    CKPLUS_CLASSES,
    JAFFE_CLASSES,
    DatasetFormatError,
    load_ckplus,
    load_dataset,
    load_ferplus,
    load_jaffe,
    load_rafml,
    write_ferplus,
    write_jaffe,
)
from fer_utils.data import cache as cache_mod
from fer_utils.data.cache import cache_key, clear_cache, list_cache, verify_cache
from fer_utils.data.ferplus import duplicate_report
from fer_utils.data.io import decode_images, decode_images_hashed, pixel_digest
from fer_utils.data.synthetic import generate_faces

# --------------------------------------------------------------------------- helpers


def _rewrite_line(path: Path, lineno: int, edit) -> None:
    """Apply ``edit`` to line ``lineno`` (0-based) of a text file, keeping the rest."""
    lines = path.read_text().split("\n")
    lines[lineno] = edit(lines[lineno])
    path.write_text("\n".join(lines))


def _same_size_rewrite(path: Path, data: bytes) -> None:
    """Replace a file's bytes by ``data`` of the same length, restoring its times."""
    st = path.stat()
    assert len(data) == st.st_size
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size


def _twin_counts(images: np.ndarray, split: np.ndarray) -> dict[str, int]:
    """Straight dictionary count of images with a pixel-identical twin in another split."""
    where: dict[bytes, set[str]] = defaultdict(set)
    for img, s in zip(images, split, strict=True):
        where[img.tobytes()].add(str(s))
    return {
        f"{a}_in_{b}": sum(
            1 for img, s in zip(images, split, strict=True) if s == a and b in where[img.tobytes()]
        )
        for a, b in (("val", "train"), ("test", "train"), ("test", "val"))
    }


def _digests(images: np.ndarray) -> np.ndarray:
    """Pixel digests of in-memory images (the loader's digests, for cross-checking)."""
    return np.stack([np.frombuffer(pixel_digest(img), dtype=np.uint8) for img in images])


# --------------------------------------------------------------------------- case 5


def test_ck48_missing_class_folder_is_an_error(copy_written, ck48_fixture, tmp_path) -> None:
    written = copy_written(ck48_fixture[1], tmp_path)
    n_fear = len(list((written.root / "fear").glob("*.png")))
    shutil.rmtree(written.root / "fear")
    with pytest.raises(
        DatasetFormatError,
        match=r"class folder .*fear is missing; expected one folder per class: anger, "
        r"contempt, disgust, fear, happy, sadness, surprise",
    ):
        load_ckplus(written)
    # an explicit subset is how to ask for fewer classes
    wanted = ("happiness", "anger", "sadness", "surprise", "contempt", "disgust")
    ds = load_ckplus(written, classes=wanted)
    assert ds.classes == tuple(c for c in CKPLUS_CLASSES if c != "fear")
    assert ds.dropped == {} and n_fear > 0
    two = load_ckplus(written, classes=("happiness", "anger"))
    assert two.classes == ("anger", "happiness") and set(two.labels.tolist()) == {0, 1}
    assert two.dropped["class_not_requested"] == len(ds) - len(two)
    assert two.info["options"]["classes"] == ["anger", "happiness"]


def test_ck48_empty_class_folder_is_an_error(copy_written, ck48_fixture, tmp_path) -> None:
    written = copy_written(ck48_fixture[1], tmp_path)
    for png in (written.root / "contempt").glob("*.png"):
        png.unlink()
    with pytest.raises(DatasetFormatError, match=r"contempt holds no PNG images; expected"):
        load_ckplus(written)


def test_ckplus_original_class_without_sequence_is_an_error(
    copy_written, ckplus_fixture, tmp_path
) -> None:
    written = copy_written(ckplus_fixture[1], tmp_path)
    fear = [p for p in (written.root / "Emotion").rglob("*_emotion.txt") if "4.0" in p.read_text()]
    assert fear
    for p in fear:
        p.unlink()
    with pytest.raises(DatasetFormatError, match=r"fear \(code 4\); expected every class of"):
        load_ckplus(written, image_size=48)
    ds = load_ckplus(written, image_size=48, classes=[c for c in CKPLUS_CLASSES if c != "fear"])
    assert "fear" not in ds.classes and len(ds) > 0


def test_jaffe_expression_code_without_image_is_an_error(
    copy_written, jaffe_fixture, tmp_path
) -> None:
    written = copy_written(jaffe_fixture[1], tmp_path)
    for tiff in (written.root / "jaffedbase").glob("*.FE*.tiff"):
        tiff.unlink()
    with pytest.raises(
        DatasetFormatError, match=r"expression code\(s\) FE \(fear\); expected .*NE, HA, SA"
    ):
        load_jaffe(written)
    ds = load_jaffe(written, classes=JAFFE_CLASSES[:-1])
    assert ds.classes == JAFFE_CLASSES[:-1]
    # the distributions leave the fear ratings out, like ratings="30_no_fear"
    assert ds.distributions.shape[1] == 6 and torch.allclose(
        ds.distributions.sum(1), torch.ones(len(ds))
    )


def test_jaffe_classes_subset(jaffe_fixture) -> None:
    faces, written = jaffe_fixture
    ds = load_jaffe(written, classes=("sadness", "happiness"))
    assert ds.classes == ("happiness", "sadness")
    full = load_jaffe(written)
    assert ds.dropped["class_not_requested"] == len(full) - len(ds)
    assert ds.dropped["rating_without_image"] == full.dropped["rating_without_image"]
    raw = ds.votes[:, :2]  # HAP, SAD
    assert torch.allclose(ds.distributions, raw / raw.sum(1, keepdim=True))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r: load_jaffe(r, classes=("joy",)), "unknown class name 'joy'"),
        (lambda r: load_jaffe(r, classes="fear"), "not a single string"),
        (lambda r: load_jaffe(r, classes=()), "selects nothing"),
        (lambda r: load_jaffe(r, classes=("neutral",)), "holds no rated emotion"),
        (
            lambda r: load_jaffe(r, ratings="30_no_fear", classes=("fear", "anger")),
            "'fear' is not available.*30_no_fear",
        ),
        (lambda r: load_ckplus(r, classes=("neutral",)), "'neutral' is not available"),
    ],
)
def test_bad_classes_option(call, message, tmp_path) -> None:
    with pytest.raises(ValueError, match=message):
        call(tmp_path)


def test_load_dataset_passes_classes(ck48_fixture) -> None:
    ds = load_dataset("ckplus", root=ck48_fixture[1].root, classes=["fear", "happiness"])
    assert ds.classes == ("fear", "happiness")


def test_ferplus_label_csv_missing_vote_column(copy_written, ferplus_folders, tmp_path) -> None:
    written = copy_written(ferplus_folders[1], tmp_path)
    path = written.root / "FER2013Valid" / "label.csv"
    # every row loses its NF column: the column count names it
    lines = [line for line in path.read_text().split("\n") if line]
    path.write_text("".join(line.rsplit(",", 1)[0] + "\n" for line in lines))
    with pytest.raises(DatasetFormatError, match=r"FER2013Valid.label.csv, row 1: expected 12"):
        load_ferplus(written)


def test_ferplus_label_csv_shifted_columns(copy_written, ferplus_folders, tmp_path) -> None:
    """A row without its face box but with an eleventh number has 12 columns too."""
    written = copy_written(ferplus_folders[1], tmp_path)
    path = written.root / "FER2013Test" / "label.csv"
    _rewrite_line(
        path, 2, lambda s: s.split(",")[0] + ",0," + ",".join(s.split('"')[-1].split(",")[1:])
    )
    with pytest.raises(DatasetFormatError, match=r"label.csv, row 3: column 2 '0' is not a face"):
        load_ferplus(written)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace(",contempt", ""), r"missing \['contempt'\]"),
        (lambda s: s.replace("contempt", "Contempt"), r"missing \['contempt'\]; unexpected"),
        (lambda s: s.replace("unknown,NF", "NF,unknown"), "same names in another order"),
    ],
)
def test_ferplus_fer2013new_header(copy_written, ferplus_csv, tmp_path, edit, message) -> None:
    written = copy_written(ferplus_csv[1], tmp_path)
    _rewrite_line(written.root / "fer2013new.csv", 0, edit)
    with pytest.raises(DatasetFormatError, match=f"fer2013new.csv: header .*{message}"):
        load_ferplus(written)


def test_ferplus_fer2013new_short_row(copy_written, ferplus_csv, tmp_path) -> None:
    written = copy_written(ferplus_csv[1], tmp_path)
    _rewrite_line(written.root / "fer2013new.csv", 4, lambda s: s.rsplit(",", 2)[0])
    with pytest.raises(DatasetFormatError, match=r"fer2013new.csv, row 5: expected 12 columns"):
        load_ferplus(written)


# --------------------------------------------------------------------------- case 6


@pytest.fixture(scope="module")
def jaffe_with_twin(tmp_path_factory: pytest.TempPathFactory):
    """JAFFE with image 3 (a palette TIFF: other bytes, same pixels) a copy of image 0."""
    faces = generate_faces(40, classes=JAFFE_CLASSES, n_subjects=10, seed=31)
    faces.images[3] = faces.images[0]
    written = write_jaffe(tmp_path_factory.mktemp("jaffe_twin"), faces)
    assert "jaffedbase/" + written.quirks["palette_tiffs"][0] in [
        f for f, i in written.files.items() if i == 3
    ]
    return faces, written


def test_jaffe_duplicate_is_an_error_by_default(jaffe_with_twin) -> None:
    faces, written = jaffe_with_twin
    names = sorted(f for f, i in written.files.items() if i in (0, 3))
    pattern = r"JAFFE: 2 images .* pixel-identical copies \(1 group\(s\)\): " + re.escape(
        " = ".join(names)
    )
    with pytest.raises(DatasetFormatError, match=pattern):
        load_jaffe(written)
    kept = load_jaffe(written, duplicates="keep")
    assert len(kept) == len(faces.images)
    assert kept.info["duplicates"]["groups"] == [names]
    dropped = load_jaffe(written, duplicates="drop")
    assert len(dropped) == len(faces.images) - 1 and dropped.dropped["duplicate_image"] == 1
    assert len({img.numpy().tobytes() for img in dropped.images}) == len(dropped)


def test_ckplus_same_png_twice_is_an_error(copy_written, ck48_fixture, tmp_path) -> None:
    written = copy_written(ck48_fixture[1], tmp_path)
    source = sorted((written.root / "anger").glob("*.png"))[0]
    copy = written.root / "fear" / "S995_009_00000003.png"
    shutil.copy(source, copy)
    with pytest.raises(DatasetFormatError, match=f"{source.name} = fear/{copy.name}"):
        load_ckplus(written)
    assert len(load_ckplus(written, duplicates="drop")) == len(load_ckplus(ck48_fixture[1]))
    kept = load_ckplus(written, duplicates="keep")
    assert kept.info["duplicates"]["images"] == 2
    with pytest.raises(ValueError, match="duplicates='ignore'"):
        load_ckplus(written, duplicates="ignore")


@pytest.fixture(scope="module")
def ferplus_twins(tmp_path_factory: pytest.TempPathFactory):
    """FER+ folders and csv where validation/test faces copy training faces."""
    faces = generate_faces(120, difficulty=0.2, seed=32)
    # train 0..95, val 96..107, test 108..119 (split_fractions 0.8 / 0.1 / 0.1)
    for dst, src in ((96, 40), (97, 41), (98, 41), (108, 42), (109, 96), (110, 100), (60, 61)):
        faces.images[dst] = faces.images[src]
    root = tmp_path_factory.mktemp("fp_twins")
    folders = write_ferplus(root / "a", faces, "folders")
    csv = write_ferplus(root / "b", faces, "csv")
    return faces, folders, csv


@pytest.mark.parametrize("source", ["folders", "csv"])
def test_ferplus_duplicates_are_counted_within_and_across_splits(
    ferplus_twins, source, tmp_path
) -> None:
    faces, folders, csv = ferplus_twins
    written = folders if source == "folders" else csv
    ds = load_ferplus(written, cache_dir=tmp_path)
    report = ds.info["duplicates"]
    images = ds.images[:, 0].numpy()
    assert report["across"] == _twin_counts(images, ds.split)
    assert report["across"]["val_in_train"] >= 2 and report["across"]["test_in_train"] >= 1
    assert report["within"]["train"]["groups"] >= 1
    assert report["policy"] == "keep" and report["dropped"] == 0
    assert report == duplicate_report(_digests(images), ds.split, ds.labels.numpy()) | {
        "policy": "keep",
        "before_label_drops": report["before_label_drops"],
        "dropped": 0,
    }
    assert report["before_label_drops"]["images"] >= report["images"]
    # a cached load reports the same counts
    again = load_ferplus(written, cache_dir=tmp_path)
    assert again.info["cache_hit"] and again.info["duplicates"] == report
    # the option drops validation/test images whose twin is in training
    clean = load_ferplus(written, duplicates="drop", cache_dir=tmp_path)
    n_twins = report["across"]["val_in_train"] + report["across"]["test_in_train"]
    assert clean.dropped["duplicate_of_train"] == n_twins == len(ds) - len(clean)
    left = _twin_counts(clean.images[:, 0].numpy(), clean.split)
    assert left["val_in_train"] == left["test_in_train"] == 0
    assert (clean.split == "train").sum() == (ds.split == "train").sum()


def test_ferplus_sources_agree_on_duplicates(ferplus_twins) -> None:
    _, folders, csv = ferplus_twins
    a, b = load_ferplus(folders), load_ferplus(csv)
    assert a.info["duplicates"] == b.info["duplicates"]


# --------------------------------------------------------------------------- case 7


@pytest.mark.parametrize(
    "votes, message",
    [
        ("999,0,0,0,0,0,0,0,0,0", r"row 2: vote neutral=999 is outside 0..10"),
        ("0,0,0,0,0,0,0,0,0,11", r"row 2: vote NF=11 is outside 0..10"),
        ("6,5,0,0,0,0,0,0,0,0", r"row 2: the votes sum to 11, more than the 10 annotators"),
    ],
)
def test_ferplus_votes_out_of_range(copy_written, ferplus_folders, tmp_path, votes, message):
    written = copy_written(ferplus_folders[1], tmp_path)
    path = written.root / "FER2013Train" / "label.csv"
    _rewrite_line(path, 1, lambda s: s.rsplit('"', 1)[0] + '",' + votes)
    with pytest.raises(DatasetFormatError, match=f"FER2013Train.label.csv, {message}"):
        load_ferplus(written)


def test_ferplus_csv_votes_out_of_range(copy_written, ferplus_csv, tmp_path) -> None:
    written = copy_written(ferplus_csv[1], tmp_path)
    path = written.root / "fer2013new.csv"
    _rewrite_line(path, 7, lambda s: ",".join(s.split(",")[:2] + ["999"] + ["0"] * 9))
    with pytest.raises(DatasetFormatError, match=r"fer2013new.csv, row 8: vote neutral=999"):
        load_ferplus(written)


def test_ferplus_nine_votes_are_fine(copy_written, ferplus_folders, tmp_path) -> None:
    """The real file has one row with nine votes; fewer than ten is not an error."""
    written = copy_written(ferplus_folders[1], tmp_path)
    path = written.root / "FER2013Train" / "label.csv"
    _rewrite_line(path, 40, lambda s: s.rsplit('"', 1)[0] + '",9,0,0,0,0,0,0,0,0,0')
    assert len(load_ferplus(written, cache=False)) > 0


# --------------------------------------------------------------------------- case 8


def test_label_file_with_same_size_and_mtime_changes_the_key(
    copy_written, ferplus_folders, tmp_path
) -> None:
    written = copy_written(ferplus_folders[1], tmp_path)
    label = written.root / "FER2013Train" / "label.csv"
    first = load_ferplus(written, cache_dir=tmp_path / "c")
    before = cache_key("demo", 1, {}, [], label_files=[label])
    text = label.read_text()
    row = next(
        r
        for r in text.split("\n")
        if r and r.split(",")[0] and r.split(",")[-10] != r.split(",")[-9]
    )
    head, votes = row.rsplit('"', 1)[0], row.rsplit('"', 1)[1].split(",")[1:]
    new_row = head + '",' + ",".join([votes[1], votes[0], *votes[2:]])
    _same_size_rewrite(label, text.replace(row, new_row, 1).encode())
    assert cache_key("demo", 1, {}, [], label_files=[label]) != before
    second = load_ferplus(written, cache_dir=tmp_path / "c")
    assert not second.info["cache_hit"] and second.info["cache"] != first.info["cache"]


def test_replaced_image_with_same_size_and_mtime_is_not_served(
    copy_written, jaffe_fixture, tmp_path
) -> None:
    written = copy_written(jaffe_fixture[1], tmp_path)
    first = load_jaffe(written, cache_dir=tmp_path / "c")
    palette = {f"jaffedbase/{n}" for n in written.quirks["palette_tiffs"]}
    k = next(i for i, f in enumerate(first.filenames) if f not in palette)
    path = written.root / first.filenames[k]
    with Image.open(path) as im:
        assert im.mode == "L"
        inverted = Image.fromarray(255 - np.asarray(im))
    tmp = tmp_path / "inverted.tiff"
    inverted.save(tmp, format="TIFF")
    _same_size_rewrite(path, tmp.read_bytes())
    second = load_jaffe(written, cache_dir=tmp_path / "c")
    assert not second.info["cache_hit"]
    assert torch.equal(second.images[k, 0], 255 - first.images[k, 0])


def test_verify_and_clear_the_cache(copy_written, jaffe_fixture, tmp_path, monkeypatch) -> None:
    written = copy_written(jaffe_fixture[1], tmp_path)
    folder = tmp_path / "c"
    ds = load_jaffe(written, cache_dir=folder)
    load_jaffe(written, image_size=32, cache_dir=folder)
    foreign = folder / "notes.txt"
    foreign.write_text("not a cache file")
    assert [e["loader"] for e in list_cache(folder)] == ["jaffe", "jaffe"]
    assert set(verify_cache(folder).values()) == {"ok"}
    # a file system without ctime, a file rewritten with the same size and mtime: the
    # key cannot see it (documented), verify_cache re-hashes the content and does
    monkeypatch.setattr(
        cache_mod,
        "file_signature",
        lambda paths: "|".join(f"{p}:{os.stat(p).st_size}:{os.stat(p).st_mtime_ns}" for p in paths),
    )
    load_jaffe(written, cache_dir=folder)
    palette = {f"jaffedbase/{n}" for n in written.quirks["palette_tiffs"]}
    path = written.root / next(f for f in ds.filenames if f not in palette)
    with Image.open(path) as im:
        inverted = Image.fromarray(255 - np.asarray(im))
    inverted.save(tmp_path / "inverted.tiff", format="TIFF")
    _same_size_rewrite(path, (tmp_path / "inverted.tiff").read_bytes())
    assert load_jaffe(written, cache_dir=folder).info["cache_hit"]  # stale, undetected
    report = verify_cache(folder)
    assert len(report) == 3
    assert [s for s in report.values() if "content changed" in s] == [
        "stale: a source file's content changed (same size and times)"
    ]
    verify_cache(folder, prune=True)
    assert list_cache(folder) == []
    fresh = load_jaffe(written, cache_dir=folder)
    assert not fresh.info["cache_hit"] and not torch.equal(fresh.images, ds.images)
    # the command line; clearing leaves foreign files alone
    assert cache_mod.main(["--dir", str(folder), "--verify"]) == 0
    assert cache_mod.main(["--dir", str(folder), "--clear", "--loader", "ferplus-folders"]) == 0
    assert len(list_cache(folder)) == 1
    assert cache_mod.main(["--dir", str(folder), "--clear"]) == 0
    assert list_cache(folder) == [] and foreign.exists()
    assert clear_cache(folder) == []


def test_cache_module_runs_as_a_command(tmp_path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "fer_utils.data.cache", "--dir", str(tmp_path), "--list"],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0 and "0 cache file(s)" in result.stdout
    assert "RuntimeWarning" not in result.stderr


# --------------------------------------------------------------------------- case 12


@pytest.mark.parametrize("value", [0, -48, 2.5, "48", True])
@pytest.mark.parametrize("loader", [load_jaffe, load_ckplus, load_ferplus, load_rafml])
def test_wrong_image_size_names_the_parameter(loader, value, request) -> None:
    fixture = {
        load_jaffe: "jaffe_fixture",
        load_ckplus: "ck48_fixture",
        load_ferplus: "ferplus_folders",
        load_rafml: "rafml_fixture",
    }[loader]
    written = request.getfixturevalue(fixture)[1]
    with pytest.raises(ValueError, match=r"image_size=.* expected a positive whole number") as err:
        loader(written, image_size=value, cache=False)
    assert not isinstance(err.value, DatasetFormatError)
    assert ".tif" not in str(err.value) and ".png" not in str(err.value)


@pytest.mark.parametrize("position", ["first", "middle"])
def test_ferplus_wrong_sized_png_is_named(copy_written, ferplus_folders, tmp_path, position):
    written = copy_written(ferplus_folders[1], tmp_path)
    names = sorted(f for f in written.files if f.startswith("FER2013Train"))
    bad = names[0] if position == "first" else names[len(names) // 2]
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(written.root / bad)
    for size in (None, 64):
        with pytest.raises(
            DatasetFormatError, match=rf"image .*{re.escape(bad)} is 40x40 pixels, expected 48x48"
        ):
            load_ferplus(written, image_size=size, cache=False)


def test_ferplus_csv_wrong_sized_first_row_is_named(copy_written, ferplus_csv, tmp_path) -> None:
    written = copy_written(ferplus_csv[1], tmp_path)
    path = written.root / "fer2013.csv"
    _rewrite_line(path, 1, lambda s: s.split(",")[0] + "," + " ".join(["7"] * 1600) + ",Training")
    with pytest.raises(
        DatasetFormatError, match=r"fer2013.csv, row 2: the image is 40x40 pixels .* expected 48x48"
    ):
        load_ferplus(written, cache=False)


def test_mixed_sizes_blame_the_rare_file_even_when_it_is_first(tmp_path) -> None:
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"{i}.png")
        side = 10 if i == 0 else 12
        Image.fromarray(np.full((side, side), i, np.uint8)).save(paths[-1])
    with pytest.raises(
        DatasetFormatError, match=r"image .*0\.png has shape \(10, 10\).*5 of the 6"
    ):
        decode_images(paths)
    with pytest.raises(DatasetFormatError, match=r"0\.png is 10x10 pixels, expected 12x12"):
        decode_images_hashed(paths, expected_size=(12, 12))
    images, digests = decode_images_hashed(paths, image_size=8)
    assert images.shape == (6, 8, 8) and len({d.tobytes() for d in digests}) == 6


def test_ck48_wrong_sized_first_png_is_named(copy_written, ck48_fixture, tmp_path) -> None:
    written = copy_written(ck48_fixture[1], tmp_path)
    first = sorted((written.root / "anger").glob("*.png"))[0]
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(first)
    with pytest.raises(DatasetFormatError, match=rf"image .*{first.name} has shape \(40, 40\)"):
        load_ckplus(written, cache=False)
    assert load_ckplus(written, image_size=48, cache=False).images.shape[-1] == 48
