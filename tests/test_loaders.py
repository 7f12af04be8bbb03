"""Every loader on synthetic files written in the real layouts, quirks included."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from fer_utils.data import (
    CKPLUS_CLASSES,
    DATASETS,
    FERPLUS_CLASSES,
    JAFFE_CLASSES,
    LABEL_MODES,
    RAFML_CLASSES,
    DatasetFormatError,
    load_ckplus,
    load_dataset,
    load_ferplus,
    load_jaffe,
    load_rafml,
    subject_kfold,
)
from fer_utils.data.ferplus import multi_target_labels, process_votes

# --------------------------------------------------------------------------- JAFFE


def test_jaffe_round_trip(jaffe_fixture) -> None:
    faces, written = jaffe_fixture
    ds = load_jaffe(written)
    idx = np.array([written.files[f] for f in ds.filenames])
    assert len(ds) == len(faces.images) and sorted(idx) == list(range(len(faces.images)))
    assert ds.classes == JAFFE_CLASSES
    assert [ds.classes[k] for k in ds.labels] == [faces.classes[k] for k in faces.labels[idx]]
    assert torch.equal(ds.images[:, 0], torch.from_numpy(faces.images[idx]))
    assert set(ds.subjects) <= {"KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM"}
    assert all(
        f.split("/")[1].startswith(s) for f, s in zip(ds.filenames, ds.subjects, strict=True)
    )
    # ratings: 1 + 4 p per emotion, two decimals; distributions normalise them, neutral 0
    fear = faces.distributions[idx, faces.classes.index("fear")]
    np.testing.assert_allclose(ds.votes[:, 5].numpy(), np.round(1 + 4 * fear, 2), atol=1e-5)
    assert torch.allclose(ds.distributions.sum(1), torch.ones(len(ds)))
    assert torch.all(ds.distributions[:, 0] == 0) and torch.all(ds.multilabels[:, 0] == 0)
    cols = [ds.classes.index(c) for c in ("happiness", "sadness", "surprise", "anger", "disgust")]
    assert torch.equal(ds.multilabels[:, cols + [6]], (ds.votes > 3).float())
    assert ds.vote_names == ("HAP", "SAD", "SUR", "ANG", "DIS", "FEA")


def test_jaffe_quirks_are_handled_and_reported(jaffe_fixture, caplog) -> None:
    faces, written = jaffe_fixture
    with caplog.at_level("WARNING", logger="fer_utils.data"):
        ds = load_jaffe(written, cache=False)
    phantoms = written.quirks["rating_without_image"]
    assert ds.dropped == {"rating_without_image": len(phantoms)}
    assert ds.info["rating_without_image"] == sorted(phantoms)
    ((typo, fixed),) = written.quirks["typo"].items()
    assert ds.info["typo_fixes"] == [f"{typo} -> {fixed}"]
    assert "rating_without_image=3" in caplog.text
    # palette TIFFs really are palette files, and decode to the gray values, not indices
    for name in written.quirks["palette_tiffs"]:
        with Image.open(written.root / "jaffedbase" / name) as im:
            assert im.mode == "P"
        i = ds.filenames.index(f"jaffedbase/{name}")
        assert np.array_equal(ds.images[i, 0].numpy(), faces.images[written.files[ds.filenames[i]]])


def test_jaffe_rating_file_format_matches_the_real_one(jaffe_fixture) -> None:
    _, written = jaffe_fixture
    text = (written.root / "ratings_60.txt").read_text()
    first = text.splitlines()[0].split()
    assert first[0] == "1" and len(first) == 8 and first[-1].count("-") == 1
    assert not text.endswith("\n")
    assert len((written.root / "ratings_30_no_fear.txt").read_text().splitlines()[0].split()) == 7


def test_jaffe_30_no_fear_drops_the_unrated_fear_images(jaffe_fixture) -> None:
    faces, written = jaffe_fixture
    ds = load_jaffe(written, ratings="30_no_fear")
    n_fear = int(np.sum(faces.labels == faces.classes.index("fear")))
    assert ds.classes == JAFFE_CLASSES[:-1]
    assert len(ds) == len(faces.images) - n_fear
    assert ds.dropped["fear_not_rated"] == n_fear
    assert torch.isnan(ds.votes[:, 5]).all() and not torch.isnan(ds.votes[:, :5]).any()
    assert torch.allclose(ds.distributions.sum(1), torch.ones(len(ds)))


def test_jaffe_image_size_option(jaffe_fixture) -> None:
    ds = load_jaffe(jaffe_fixture[1], image_size=32)
    assert ds.images.shape[1:] == (1, 32, 32)


# --------------------------------------------------------------------------- CK+


def _ck_class(faces, i: int) -> str:
    return faces.classes[int(faces.labels[i])]


def test_ckplus_original_peak_frames(ckplus_fixture) -> None:
    faces, written = ckplus_fixture
    ds = load_ckplus(written, image_size=48)
    labelled = [
        i for i in range(len(faces.images)) if _ck_class(faces, i) != "neutral" and i % 10 != 9
    ]
    assert ds.info["layout"] == "original" and ds.classes == CKPLUS_CLASSES
    assert len(ds) == len(labelled)
    idx = [written.files[f] for f in ds.filenames]
    assert sorted(idx) == labelled
    assert [ds.classes[k] for k in ds.labels] == [_ck_class(faces, i) for i in idx]
    assert ds.dropped == {"unlabelled_sequence": len(written.quirks["unlabelled_sequences"])}
    # frames saved at the native size (gray or RGB) round-trip exactly: the peak is the face
    resized = set(written.quirks["resized"])
    for k, f in enumerate(ds.filenames):
        if "/".join(f.split("/")[1:3]) not in resized:
            assert np.array_equal(ds.images[k, 0].numpy(), faces.images[idx[k]]), f
    assert all(s == f.split("/")[1] for s, f in zip(ds.subjects, ds.filenames, strict=True))


def test_ckplus_original_defaults_to_256_and_converts_rgb(ckplus_fixture) -> None:
    _, written = ckplus_fixture
    ds = load_ckplus(written)
    assert ds.images.shape[1:] == (1, 256, 256)
    assert written.quirks["rgb"]  # some sequences are RGB on disk


def test_ckplus_last3_and_neutral(ckplus_fixture) -> None:
    faces, written = ckplus_fixture
    peak = load_ckplus(written, image_size=48)
    last3 = load_ckplus(written, frames="last3", image_size=48)
    assert len(last3) == 3 * len(peak)
    assert last3.class_counts() == {c: 3 * n for c, n in peak.class_counts().items()}
    with_neutral = load_ckplus(written, include_neutral=True, image_size=48)
    assert with_neutral.classes == ("neutral", *CKPLUS_CLASSES)
    assert with_neutral.class_counts()["neutral"] == len(peak) == len(with_neutral) // 2
    neutral = with_neutral.labels == 0
    assert all(
        f.endswith("_00000001.png")
        for f, n in zip(with_neutral.filenames, neutral, strict=True)
        if n
    )


def test_ckplus_subject_folds_keep_sequences_together(ckplus_fixture) -> None:
    ds = load_ckplus(ckplus_fixture[1], frames="last3", image_size=48)
    for train, test in subject_kfold(ds.subjects, n_splits=4, seed=0):
        assert not set(ds.subjects[train]) & set(ds.subjects[test])


def test_ckplus_ck48_layout(ck48_fixture) -> None:
    faces, written = ck48_fixture
    ds = load_ckplus(written)
    non_neutral = [i for i in range(len(faces.images)) if _ck_class(faces, i) != "neutral"]
    assert ds.info["layout"] == "ck48" and ds.images.shape[1:] == (1, 48, 48)
    assert len(ds) == 3 * len(non_neutral) and ds.dropped == {}
    idx = [written.files[f] for f in ds.filenames]
    assert [ds.classes[k] for k in ds.labels] == [_ck_class(faces, i) for i in idx]
    peak = load_ckplus(written, frames="peak")
    assert len(peak) == len(non_neutral)
    assert np.array_equal(
        peak.images[:, 0].numpy(), faces.images[[written.files[f] for f in peak.filenames]]
    )
    with pytest.raises(ValueError, match="include_neutral"):
        load_ckplus(written, include_neutral=True)


# --------------------------------------------------------------------------- FER+

# Votes: neutral happiness surprise sadness anger disgust fear contempt unknown NF.
# Expected per mode: a dict {class index: share} for a kept image, or the drop reason.
HAND_ROWS = [
    # the real first row: sadness 1 is an outlier; 4 of 9 is no majority; 4+3 cover >= 75%
    ([4, 0, 0, 1, 3, 2, 0, 0, 0, 0], "no_majority", {0: 4 / 7, 4: 3 / 7}, {0: 4 / 7, 4: 3 / 7}),
    ([6, 0, 1, 1, 0, 0, 0, 0, 2, 0], {0: 1.0}, {0: 1.0}, {0: 1.0}),
    # a tie at the top is kept together (label: the first in vote order)
    ([4, 4, 0, 0, 0, 0, 0, 0, 2, 0], "no_majority", {0: 0.5, 1: 0.5}, {0: 0.5, 1: 0.5}),
    # unknown / NF leading
    ([2, 0, 0, 0, 0, 0, 0, 0, 8, 0], "unknown_or_nf", "unknown_or_nf", "unknown_or_nf"),
    ([0, 0, 0, 0, 0, 0, 0, 0, 3, 7], "unknown_or_nf", "unknown_or_nf", "unknown_or_nf"),
    # unknown met in a later round stops the selection but is not kept
    ([6, 2, 0, 0, 0, 0, 0, 0, 2, 0], {0: 1.0}, {0: 0.75, 1: 0.25}, {0: 1.0}),
    # NF tied with the top emotion: only 4 of 10 kept -> dropped; multi_target peaks at
    # neutral (first maximum) and keeps it
    ([4, 2, 0, 0, 0, 0, 0, 0, 0, 4], "no_majority", "low_coverage", {0: 1.0}),
    # four emotions in two rounds: more than three
    ([3, 3, 2, 2, 0, 0, 0, 0, 0, 0], "no_majority", "too_many_emotions", {0: 0.5, 1: 0.5}),
    (
        [4, 3, 3, 0, 0, 0, 0, 0, 0, 0],
        "no_majority",
        {0: 0.4, 1: 0.3, 2: 0.3},
        {0: 0.4, 1: 0.3, 2: 0.3},
    ),
    ([2, 2, 2, 2, 2, 0, 0, 0, 0, 0], "no_majority", "too_many_emotions", "low_coverage"),
    # outlier removal makes the majority: 5 of 7 remaining votes
    ([5, 1, 1, 1, 0, 0, 0, 2, 0, 0], {0: 1.0}, {0: 5 / 7, 7: 2 / 7}, {0: 1.0}),
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "only_single_votes", "only_single_votes", "only_single_votes"),
]


@pytest.mark.parametrize("row, majority, leaders, multi", HAND_ROWS)
def test_ferplus_label_modes_on_hand_computed_rows(row, majority, leaders, multi) -> None:
    expected = {
        "majority": majority,
        "probability": leaders,
        "crossentropy": leaders,
        "multi_target": multi,
    }
    for mode, want in expected.items():
        targets, reasons = process_votes(np.array([row]), mode)
        if isinstance(want, str):
            assert reasons[0] == want, (mode, row)
            assert not targets[0].any()
        else:
            dense = np.zeros(8)
            dense[list(want)] = list(want.values())
            assert reasons[0] == "", (mode, row)
            np.testing.assert_allclose(targets[0], dense, atol=1e-6, err_msg=f"{mode} {row}")


def _reference_target(row: list[int], mode: str) -> np.ndarray | None:
    """Straight per-row reading of the FER+ rules (docs/replication.md, datasets)."""
    v = [0 if x <= 1 else x for x in row]
    total = sum(v)
    kept = [0] * 10
    if mode == "majority":
        if 2 * max(v) > total:
            kept[v.index(max(v))] = max(v)
    elif mode == "multi_target":
        kept = [x if 10 * x >= 3 * total else 0 for x in v]
    else:
        rest, count, stop = list(v), 0, False
        while 4 * sum(kept) < 3 * total and count < 3 and not stop:
            top = max(rest)
            for i in range(10):
                if rest[i] != top:
                    continue
                kept[i], rest[i], count = top, 0, count + 1
                if i >= 8:  # unknown / NF ends the selection; kept only when alone
                    stop = True
                    if sum(kept) > top:
                        kept[i], count = 0, count - 1
                    break
        if count > 3:
            return None
    if total == 0 or 2 * sum(kept) <= total or kept.index(max(kept)) >= 8:
        return None
    return np.array(kept[:8]) / sum(kept[:8])


@pytest.mark.parametrize("mode", LABEL_MODES)
def test_ferplus_vectorised_modes_match_a_per_row_reading(mode: str) -> None:
    rng = np.random.default_rng(5)
    votes = np.concatenate(
        [
            rng.multinomial(10, rng.dirichlet(np.full(10, 0.5), size=1500)),
            rng.integers(0, 4, size=(1500, 10)),
        ]
    )
    targets, reasons = process_votes(votes, mode)
    for row, target, reason in zip(votes, targets, reasons, strict=True):
        want = _reference_target(row.tolist(), mode)
        if want is None:
            assert reason != "", row
        else:
            assert reason == "", row
            np.testing.assert_allclose(target, want, atol=1e-6)


def test_multi_target_labels() -> None:
    votes = np.array([[4, 0, 0, 1, 3, 2, 0, 0, 0, 0], [1] * 10, [2, 0, 0, 0, 0, 0, 0, 0, 8, 0]])
    expected = np.zeros((3, 8))
    expected[0, [0, 4]] = 1
    assert np.array_equal(multi_target_labels(votes), expected)


@pytest.mark.parametrize("source", ["folders", "csv"])
@pytest.mark.parametrize("mode", LABEL_MODES)
def test_ferplus_fixture_in_every_mode(request, source: str, mode: str) -> None:
    faces, written = request.getfixturevalue(f"ferplus_{source}")
    ds = load_ferplus(written, mode=mode)
    assert ds.info["source"] == source and ds.classes == FERPLUS_CLASSES
    assert ds.dropped["empty_name"] == 3 and ds.dropped["duplicate_name"] == 1
    names = [f.split("/")[-1] for f in ds.filenames]
    assert len(set(names)) == len(names)
    for kind in ("nf_dominated", "unknown_dominated"):
        assert not set(written.quirks[kind]) & set(names)
    # every written face is either loaded or counted with a reason
    n_faces = len(written.quirks["votes"])
    label_drops = sum(v for k, v in ds.dropped.items() if k not in ("empty_name", "duplicate_name"))
    assert len(ds) + label_drops == n_faces
    # labels and targets follow the rules (majority outside training), images round-trip
    for k, name in enumerate(names):
        row = written.quirks["votes"][name]
        assert ds.votes[k].tolist() == row
        want = _reference_target(row, mode if ds.split[k] == "train" else "majority")
        assert want is not None and int(ds.labels[k]) == int(np.argmax(want))
        face = written.files[ds.filenames[k] if source == "folders" else name]
        assert np.array_equal(ds.images[k, 0].numpy(), faces.images[face])
    assert torch.allclose(ds.distributions.sum(1), torch.ones(len(ds)))
    assert set(ds.split) == {"train", "val", "test"}
    assert ds.subjects is None and ds.multilabels.shape == (len(ds), 8)


def test_ferplus_sources_agree_and_target_option(ferplus_folders, ferplus_csv) -> None:
    a = load_ferplus(ferplus_folders[1], mode="crossentropy", distributions="target")
    b = load_ferplus(ferplus_csv[1], mode="crossentropy", distributions="target")
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert torch.equal(a.distributions, b.distributions) and list(a.split) == list(b.split)
    targets, _ = process_votes(a.votes.numpy().astype(int), "crossentropy")
    train = a.split == "train"
    assert np.allclose(a.distributions.numpy()[train], targets[train])
    maj = load_ferplus(ferplus_folders[1], distributions="target")
    assert set(maj.distributions.unique().tolist()) == {0.0, 1.0}


def test_ferplus_duplicate_keeps_the_first_row(ferplus_folders, ferplus_csv) -> None:
    for faces, written in (ferplus_folders, ferplus_csv):
        ds = load_ferplus(written)
        first = ds.filenames[0].split("/")[-1]
        assert first == "fer0000000.png"
        assert ds.votes[0].tolist() == written.quirks["votes"][first]
        assert np.array_equal(ds.images[0, 0].numpy(), faces.images[0])


def test_ferplus_prefers_folders_and_reports_drops(
    copy_written, ferplus_folders, tmp_path, caplog
) -> None:
    written = copy_written(ferplus_folders[1], tmp_path)
    (written.root / "fer2013new.csv").write_text("not used\n")
    (written.root / "fer2013.csv").write_text("not used\n")
    with caplog.at_level("WARNING", logger="fer_utils.data"):
        ds = load_ferplus(written)
    assert ds.info["source"] == "folders"
    assert "empty_name=3" in caplog.text and "duplicate_name=1" in caplog.text


# --------------------------------------------------------------------------- RAF-ML


def test_rafml_aligned(rafml_fixture) -> None:
    faces, written = rafml_fixture
    ds = load_rafml(written)
    idx = [written.files[f] for f in ds.filenames]
    assert ds.classes == RAFML_CLASSES and ds.images.shape[1:] == (3, 100, 100)
    order = [faces.classes.index(c) for c in RAFML_CLASSES]
    np.testing.assert_allclose(
        ds.distributions.numpy(), faces.distributions[idx][:, order], atol=1e-5
    )
    assert [ds.classes[k] for k in ds.labels] == [faces.classes[faces.labels[i]] for i in idx]
    np.testing.assert_allclose(ds.landmarks.numpy(), faces.landmarks[idx] * 100 / 48, atol=1e-3)
    near = np.abs(faces.distributions[idx][:, order] - 0.25) < 1e-4
    expected = faces.multilabels[idx][:, order].astype(bool)
    assert np.array_equal(ds.multilabels.numpy().astype(bool) | near, expected | near)
    resized = np.stack(
        [
            np.asarray(
                Image.fromarray(faces.images[i]).resize((100, 100), Image.Resampling.BILINEAR)
            )
            for i in idx
        ]
    )
    assert np.abs(ds.images[:, 0].numpy().astype(int) - resized).mean() < 3
    assert list(ds.split).count("train") == 48 and ds.subjects is None


def test_rafml_original_images_and_landmarks(rafml_fixture) -> None:
    faces, written = rafml_fixture
    ds = load_rafml(written, images="original", gray=True, image_size=64)
    assert ds.images.shape[1:] == (1, 64, 64)
    for k, f in enumerate(ds.filenames):
        i = written.files[f]
        left, top, scale = written.quirks["original_boxes"][i]
        with Image.open(written.root / f) as im:
            w, h = im.size
        back = ds.landmarks[k].numpy() * [w / 64, h / 64]
        np.testing.assert_allclose((back - [left, top]) / scale, faces.landmarks[i], atol=0.05)


def test_rafml_without_landmark_folder(copy_written, rafml_fixture, tmp_path) -> None:
    written = copy_written(rafml_fixture[1], tmp_path)
    (written.root / "partition.txt").unlink()
    shutil.rmtree(written.root / "Annotation" / "aligned")
    ds = load_rafml(written)
    assert ds.landmarks is None and ds.split is None and "missing" in ds.info["landmarks"]


# --------------------------------------------------------------------------- load_dataset


def test_load_dataset_reads_the_data_root(jaffe_fixture, monkeypatch) -> None:
    _, written = jaffe_fixture
    monkeypatch.setenv("FER_DATA_DIR", str(written.root.parent))
    ds = load_dataset("jaffe", image_size=32)
    assert ds.name == "jaffe" and ds.images.shape[-1] == 32
    assert DATASETS == ("synthetic", "jaffe", "ckplus", "ferplus", "rafml")


def test_load_dataset_synthetic_ignores_root() -> None:
    ds = load_dataset("synthetic", root="/does/not/matter", n=40, seed=1)
    assert ds.name == "synthetic" and len(ds) == 40


def test_load_dataset_rejects_unknown_names_and_options() -> None:
    with pytest.raises(ValueError, match=r"'affectnet'.*jaffe, ckplus"):
        load_dataset("affectnet")
    with pytest.raises(ValueError, match=r"rating\b.*accepted: ratings, image_size"):
        load_dataset("jaffe", rating="60")
    with pytest.raises(ValueError, match="colour.*accepted: n, image_size"):
        load_dataset("synthetic", colour=True)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("loader", [load_jaffe, load_ckplus, load_ferplus, load_rafml])
def test_missing_root_names_the_path(loader, tmp_path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere.*expected"):
        loader(missing)
    with pytest.raises(FileNotFoundError, match="expected"):
        loader(tmp_path)  # exists, but holds no dataset


@pytest.mark.parametrize(
    "call, value",
    [
        (lambda r: load_jaffe(r, ratings="45"), "'45'"),
        (lambda r: load_ferplus(r, mode="vote"), "'vote'"),
        (lambda r: load_ferplus(r, source="zip"), "'zip'"),
        (lambda r: load_ckplus(r, frames="first"), "'first'"),
        (lambda r: load_rafml(r, images="cropped"), "'cropped'"),
    ],
)
def test_bad_option_values_are_named(call, value, tmp_path) -> None:
    with pytest.raises(ValueError, match=value):
        call(tmp_path)


def _edit_line(path, lineno: int, edit) -> None:
    lines = path.read_text().split("\n")
    lines[lineno] = edit(lines[lineno])
    path.write_text("\n".join(lines))


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.rsplit(" ", 2)[0] + " " + s.rsplit(" ", 1)[1], r"line 2: expected 8 fields"),
        (
            lambda s: s.replace(s.split()[2], "high", 1),
            r"line 2: rating SAD='high' is not a number",
        ),
        (lambda s: s.replace(s.split()[1], "6.20", 1), r"line 2: rating HAP=6.20 is outside"),
        (lambda s: " ".join(s.split()[:-1] + ["KA_AN1"]), r"'KA_AN1' does not look like"),
    ],
)
def test_jaffe_malformed_rating_rows(copy_written, jaffe_fixture, tmp_path, edit, message) -> None:
    written = copy_written(jaffe_fixture[1], tmp_path)
    _edit_line(written.root / "ratings_60.txt", 1, edit)
    with pytest.raises(DatasetFormatError, match=f"ratings_60.txt.*{message}"):
        load_jaffe(written)


def test_jaffe_image_without_rating_and_missing_file(copy_written, jaffe_fixture, tmp_path) -> None:
    written = copy_written(jaffe_fixture[1], tmp_path)
    path = written.root / "ratings_60.txt"
    lines = path.read_text().split("\n")
    pic = lines[0].split()[-1]
    path.write_text("\n".join(lines[1:]))
    with pytest.raises(DatasetFormatError, match=f"has no rating row '{pic}'"):
        load_jaffe(written)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="ratings_60.txt"):
        load_jaffe(written)


@pytest.mark.parametrize("suffix", ["jaffe", "ckplus", "ferplus"])
def test_corrupt_image_names_the_file(copy_written, request, tmp_path, suffix) -> None:
    fixture = {"jaffe": "jaffe_fixture", "ckplus": "ck48_fixture", "ferplus": "ferplus_folders"}
    written = copy_written(request.getfixturevalue(fixture[suffix])[1], tmp_path)
    loader = {"jaffe": load_jaffe, "ckplus": load_ckplus, "ferplus": load_ferplus}[suffix]
    bad = sorted(written.files)[-1]
    (written.root / bad).write_bytes(b"this is not an image")
    with pytest.raises(DatasetFormatError, match=f"cannot decode image .*{bad.split('/')[-1]}"):
        loader(written)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.rsplit(",", 1)[0], r"label.csv, row 2: expected 12 columns .* got 11"),
        (lambda s: s + ",0", r"label.csv, row 2: expected 12 columns .* got 13"),
        (lambda s: s.replace(s.split(",")[-1], "x"), r"row 2: vote NF='x' is not a non-negative"),
        (lambda s: ",".join(s.split(",")[:-1] + ["-1"]), r"row 2: vote NF='-1'"),
    ],
)
def test_ferplus_malformed_label_csv(
    copy_written, ferplus_folders, tmp_path, edit, message
) -> None:
    written = copy_written(ferplus_folders[1], tmp_path)
    _edit_line(written.root / "FER2013Train" / "label.csv", 1, edit)
    with pytest.raises(DatasetFormatError, match=message):
        load_ferplus(written)


def test_ferplus_missing_files(copy_written, ferplus_folders, ferplus_csv, tmp_path) -> None:
    folders = copy_written(ferplus_folders[1], tmp_path / "a")
    victim = sorted(f for f in folders.files if f.startswith("FER2013Valid"))[0]
    (folders.root / victim).unlink()
    with pytest.raises(FileNotFoundError, match=victim.split("/")[-1]):
        load_ferplus(folders)
    (folders.root / "FER2013Test" / "label.csv").unlink()
    with pytest.raises(FileNotFoundError, match="neither layout"):
        load_ferplus(folders)
    csv = copy_written(ferplus_csv[1], tmp_path / "b")
    path = csv.root / "fer2013new.csv"
    path.write_text("\n".join(path.read_text().split("\n")[:-3]) + "\n")
    with pytest.raises(DatasetFormatError, match="same number of rows"):
        load_ferplus(csv)


@pytest.mark.parametrize("content", ["anger", "9.0000000e+00", "2.5"])
def test_ckplus_malformed_emotion_file(copy_written, ckplus_fixture, tmp_path, content) -> None:
    written = copy_written(ckplus_fixture[1], tmp_path)
    label = sorted((written.root / "Emotion").rglob("*_emotion.txt"))[0]
    label.write_text(content)
    with pytest.raises(DatasetFormatError, match=f"{label.name}.*{re.escape(content)}"):
        load_ckplus(written)


def test_ckplus_unknown_layout_and_folder(copy_written, ck48_fixture, tmp_path) -> None:
    (tmp_path / "ckplus").mkdir()
    (tmp_path / "ckplus" / "faces").mkdir()
    with pytest.raises(FileNotFoundError, match="cohn-kanade-images"):
        load_ckplus(tmp_path / "ckplus")
    written = copy_written(ck48_fixture[1], tmp_path / "x")
    (written.root / "neutral").mkdir()
    with pytest.raises(DatasetFormatError, match="unexpected folder.*neutral"):
        load_ckplus(written)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.rsplit(" ", 1)[0], "expected 7 fields"),
        (lambda s: s.replace(s.split()[1], "-0.5", 1), "must be non-negative"),
        (lambda s: s.replace(s.split()[2], "lots", 1), "non-numeric"),
    ],
)
def test_rafml_malformed_distribution(copy_written, rafml_fixture, tmp_path, edit, message) -> None:
    written = copy_written(rafml_fixture[1], tmp_path)
    _edit_line(written.root / "distribution.txt", 0, edit)
    with pytest.raises(DatasetFormatError, match=f"distribution.txt, line 1: .*{message}"):
        load_rafml(written)
