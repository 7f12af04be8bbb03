"""The result figures of notebook 04 and scripts/run_table2.py (fer_utils.viz.results)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fer_utils.viz import results as figures  # noqa: E402

CLASSES = ("happiness", "sadness", "anger")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _histories(kl: bool = True) -> pd.DataFrame:
    """Two methods x two seeds x three epochs of made-up history rows."""
    rows = []
    for method in ("baseline", "mixfeature"):
        for seed in (0, 1):
            for epoch in (1, 2, 3):
                rows.append({
                    "method": method, "seed": seed, "epoch": epoch,
                    "train_ce": 2.0 / epoch + seed, "val_ce": 2.5 / epoch - seed,
                    "val_kl": 0.5 / epoch if kl else np.nan,
                })
    return pd.DataFrame(rows)


def test_per_class_accuracy_sums_counts_before_dividing() -> None:
    # run 1: happiness 3/4 right, sadness 1/2, anger 0/1
    run1 = np.array([[3, 1, 0], [1, 1, 0], [0, 1, 0]])
    # run 2: happiness 1/1, sadness 0/2, anger 2/3
    run2 = np.array([[1, 0, 0], [2, 0, 0], [0, 1, 2]])
    table = figures.per_class_table(
        {"baseline": [run1, run2], "mixfeature": run1}, CLASSES
    )
    assert list(table.columns) == ["baseline", "mixfeature"]
    assert list(table.index) == list(CLASSES)
    # summed counts: happiness 4/5, sadness 1/4, anger 2/4 (not the mean of run ratios)
    np.testing.assert_allclose(table["baseline"], [80.0, 25.0, 50.0])
    np.testing.assert_allclose(table["mixfeature"], [75.0, 50.0, 0.0])


def test_per_class_accuracy_is_nan_for_a_class_without_test_images() -> None:
    cm = np.array([[2, 0], [0, 0]])
    table = figures.per_class_table({"baseline": cm})
    assert list(table.index) == [0, 1]
    assert table.loc[0, "baseline"] == 100.0 and np.isnan(table.loc[1, "baseline"])


def test_per_class_accuracy_rejects_a_non_square_matrix() -> None:
    with pytest.raises(ValueError, match="square"):
        figures.per_class_table({"baseline": np.ones((2, 3))})


def test_training_curves_one_panel_per_metric_one_line_per_method() -> None:
    fig = figures.training_curves(_histories())
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert [line.get_label() for line in ax.lines] == ["baseline", "mixfeature"]
        assert len(ax.collections) == 2  # the +-1 std bands
    # the drawn line is the mean over seeds: train_ce at epoch 1 is (2 + 3) / 2
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [2.5, 1.5, 2 / 3 + 0.5])


def test_training_curves_skip_metrics_that_are_all_nan_or_missing() -> None:
    fig = figures.training_curves(_histories(kl=False), metrics=("train_ce", "val_kl", "nope"))
    assert len(fig.axes) == 1


def test_training_curves_without_anything_to_draw_raise() -> None:
    with pytest.raises(ValueError, match="has a value"):
        figures.training_curves(_histories(kl=False), metrics=("val_kl",))


def test_confusion_pair_one_panel_per_method_with_numbers() -> None:
    cm = np.array([[3, 1, 0], [1, 1, 0], [0, 0, 0]])
    fig = figures.confusion_pair({"baseline": cm, "mixfeature": [cm, cm]}, CLASSES)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2 and len(fig.axes) == 3  # plus the shared colour bar
    texts = [t.get_text() for t in panels[0].texts]
    assert len(texts) == 9 and texts[:2] == ["75", "25"] and texts[-1] == "-"
    assert "66.7 % of 6 test images" in panels[0].get_title()
    assert "of 12" in panels[1].get_title()


def test_confusion_pair_checks_the_class_count() -> None:
    with pytest.raises(ValueError, match="classes"):
        figures.confusion_pair({"baseline": np.eye(2)}, CLASSES)


def test_per_class_bars_one_bar_per_method_and_class() -> None:
    table = figures.per_class_table(
        {"baseline": np.eye(3) * 4, "mixfeature": np.ones((3, 3))}, CLASSES
    )
    fig = figures.per_class_bars(table, reference=pd.Series({"happiness": 90.0}))
    (ax,) = fig.axes
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.get_xticklabels()] == ["HAP", "SAD", "ANG"]


def _mfjle_rows() -> pd.DataFrame:
    from fer_utils.metrics import MULTILABEL_METRICS

    rows = []
    for i, model in enumerate(("resnet18", "mfjle")):
        row = {"model": model}
        for k in MULTILABEL_METRICS:
            row[f"{k}_mean"], row[f"{k}_std"] = 0.5 + 0.1 * i, 0.01
        rows.append(row)
    return pd.DataFrame(rows)


def test_multilabel_comparison_one_panel_per_metric_with_paper_bars() -> None:
    from fer_utils.published import MFJLE_TABLES

    fig = figures.multilabel_comparison(_mfjle_rows(), MFJLE_TABLES["jaffe"])
    assert len(fig.axes) == 9
    # two of ours and two of the paper's bars per panel
    assert all(len(ax.patches) == 4 for ax in fig.axes)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:2] == pytest.approx([0.5, 0.6])
    assert heights[2:] == pytest.approx([0.061, 0.032])  # paper B's JAFFE Hamming losses
    without = figures.multilabel_comparison(_mfjle_rows(), None)
    assert all(len(ax.patches) == 2 for ax in without.axes)


def test_multilabel_examples_mark_exact_sets() -> None:
    images = np.zeros((2, 1, 8, 8), dtype=np.uint8)
    true = np.array([[1, 0, 1], [0, 1, 0]])
    probs = {"a": np.array([[0.9, 0.1, 0.8], [0.2, 0.3, 0.1]])}
    fig = figures.multilabel_examples(images, CLASSES, true, probs, n=2)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert "true: HAP, ANG" in titles[0] and "a: HAP, ANG [=]" in titles[0]
    assert "a: (none) [x]" in titles[1]
    with pytest.raises(ValueError, match="at least one"):
        figures.multilabel_examples(images[:0], CLASSES, true[:0], probs, n=2)
