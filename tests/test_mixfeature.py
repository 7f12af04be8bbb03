"""MixFeature: Algorithm 1 and the loss of Eqs. 5-8 (notebook 03)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fer_utils.data.dataset import CANONICAL_CLASSES
from fer_utils.metrics import entropy
from fer_utils.mixfeature.loss import kl_from_logits, mixfeature_loss
from fer_utils.mixfeature.synthesis import MixedBatch, synthesize
from fer_utils.mixfeature.wheel import distance_matrix

CLASSES = CANONICAL_CLASSES
DIST = distance_matrix(CLASSES)
C = len(CLASSES)


def _idx(*names: str) -> torch.Tensor:
    return torch.tensor([CLASSES.index(n) for n in names])


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _batch(p: int, d: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = _gen(1000 + seed)
    return torch.randn(p, d, generator=g), torch.randint(0, C, (p,), generator=g)


def _loop_reference(
    features: torch.Tensor, labels: torch.Tensor, groups: torch.Tensor, primary: torch.Tensor
) -> tuple[np.ndarray, np.ndarray]:
    """Algorithm 1 one group at a time, with math.exp, for the given groups and primaries."""
    feats, targets = [], []
    for members, prim in zip(groups.tolist(), primary.tolist(), strict=True):
        d = [float(DIST[int(labels[i]), prim]) for i in members]
        z = sum(math.exp(-x) for x in d)
        a = [math.exp(-x) / z for x in d]
        feats.append(sum(w * features[i].double().numpy() for w, i in zip(a, members, strict=True)))
        t = np.zeros(C)
        for w, i in zip(a, members, strict=True):
            t[int(labels[i])] += w
        targets.append(t)
    return np.array(feats), np.array(targets)


def test_algorithm1_matches_a_direct_loop() -> None:
    features, labels = _batch(10)
    mb = synthesize(features, labels, 3, DIST, _gen(5))
    assert isinstance(mb, MixedBatch)
    # The documented draws: a permutation of the batch, then the primary member per group.
    g = _gen(5)
    groups = torch.randperm(10, generator=g)[:9].view(3, 3)
    pick = torch.randint(0, 3, (3,), generator=g)
    assert torch.equal(mb.groups, groups)
    assert torch.equal(mb.primary, labels[groups[torch.arange(3), pick]])
    feats, targets = _loop_reference(features, labels, mb.groups, mb.primary)
    np.testing.assert_allclose(mb.features.numpy(), feats, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mb.targets.numpy(), targets, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(mb.weights.sum(dim=1).numpy(), np.ones(3), rtol=1e-6)
    assert mb.targets.dtype == torch.float32 and mb.weights.dtype == torch.float32


def _find_primary(features: torch.Tensor, labels: torch.Tensor, k: int, primary: str) -> MixedBatch:
    """Synthesize with successive seeds until the single group's primary is ``primary``."""
    for seed in range(100):
        mb = synthesize(features, labels, k, DIST, _gen(seed))
        if int(mb.primary[0]) == CLASSES.index(primary):
            return mb
    raise AssertionError(f"no seed in 100 made {primary} primary")


def test_weights_for_a_concrete_group() -> None:
    # Group (anger, anger, sadness): anger is 2 from sadness on Plutchik's wheel.
    labels = _idx("anger", "anger", "sadness")
    features = torch.eye(3)
    e2 = math.exp(-2)
    for primary, expected in (
        ("anger", [1, 1, e2]),  # d = (0, 0, 2)
        ("sadness", [e2, e2, 1]),  # d = (2, 2, 0)
    ):
        mb = _find_primary(features, labels, 3, primary)
        a = np.array(expected) / sum(expected)
        by_sample = np.zeros(3)
        by_sample[mb.groups[0].numpy()] = mb.weights[0].numpy()
        np.testing.assert_allclose(by_sample, a, rtol=1e-6)
        np.testing.assert_allclose(mb.features[0].numpy(), a, rtol=1e-6)  # features = eye
        t = np.zeros(C)
        t[CLASSES.index("anger")], t[CLASSES.index("sadness")] = a[0] + a[1], a[2]
        np.testing.assert_allclose(mb.targets[0].numpy(), t, rtol=1e-6, atol=1e-8)


def test_neutral_and_contempt_in_a_group() -> None:
    e = math.exp
    mb = _find_primary(torch.eye(2), _idx("neutral", "happiness"), 2, "neutral")
    t = np.zeros(C)
    t[CLASSES.index("neutral")], t[CLASSES.index("happiness")] = 1, e(-3)  # neutral is 3 away
    np.testing.assert_allclose(mb.targets[0].numpy(), t / t.sum(), rtol=1e-6, atol=1e-8)

    mb = _find_primary(torch.eye(3), _idx("contempt", "disgust", "anger"), 3, "contempt")
    t = np.zeros(C)
    t[_idx("contempt", "disgust", "anger").numpy()] = [1, e(-0.5), e(-0.5)]  # half a petal
    np.testing.assert_allclose(mb.targets[0].numpy(), t / t.sum(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("p", "k"), [(10, 3), (9, 3), (64, 3), (7, 2), (6, 6), (13, 5)])
def test_group_count_and_distinct_members(p: int, k: int) -> None:
    features, labels = _batch(p)
    mb = synthesize(features, labels, k, DIST, _gen(0))
    m = p // k
    assert mb.groups.shape == (m, k) and mb.features.shape == (m, 4)
    assert mb.targets.shape == (m, C) and mb.primary.shape == (m,) and mb.weights.shape == (m, k)
    members = mb.groups.reshape(-1)
    assert len(set(members.tolist())) == m * k  # no sample twice, within or across groups
    assert members.min() >= 0 and members.max() < p
    for row, prim in zip(mb.groups, mb.primary, strict=True):
        assert prim in labels[row]  # the primary is one of the group's own labels


def test_same_seed_same_output_other_seed_differs() -> None:
    features, labels = _batch(32, seed=3)
    a = synthesize(features, labels, 3, DIST, _gen(7))
    b = synthesize(features, labels, 3, DIST, _gen(7))
    c = synthesize(features, labels, 3, DIST, _gen(8))
    for name in ("features", "targets", "groups", "primary", "weights"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.groups, c.groups)
    torch.manual_seed(11)  # no generator: torch's global one
    d = synthesize(features, labels, 3, DIST)
    torch.manual_seed(11)
    assert torch.equal(d.groups, synthesize(features, labels, 3, DIST).groups)


def test_uniform_wheel_is_the_unguided_variant() -> None:
    features, labels = _batch(12)
    mb = synthesize(features, labels, 4, distance_matrix(CLASSES, "uniform"), _gen(0))
    assert torch.allclose(mb.weights, torch.full((3, 4), 0.25))
    assert torch.allclose(mb.features, features[mb.groups].mean(dim=1))


def _numpy_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    mixed_logits: torch.Tensor,
    targets: torch.Tensor,
    lam: float,
) -> tuple[float, float, float]:
    """Eqs. 5-8 written out with numpy, in float64."""
    z, zm, t = (np.asarray(x, dtype=np.float64) for x in (logits, mixed_logits, targets))
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ce = float(-log_p[np.arange(len(z)), np.asarray(labels)].mean())
    log_q = zm - np.log(np.exp(zm).sum(axis=1, keepdims=True))
    terms = []
    for row, lq in zip(t, log_q, strict=True):
        nz = row > 0
        beta = -(row[nz] * np.log(row[nz])).sum()
        kl = (row[nz] * (np.log(row[nz]) - lq[nz])).sum()
        terms.append(beta * kl)
    kl_term = float(np.mean(terms))
    return lam * ce + (1 - lam) * kl_term, ce, kl_term


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.5, 1.0])
def test_loss_matches_a_direct_computation(lam: float) -> None:
    features, labels = _batch(16, d=6)
    head = torch.nn.Linear(6, C)
    torch.nn.init.normal_(head.weight, std=2.0)
    mb = synthesize(features, labels, 3, DIST, _gen(2))
    logits, mixed = head(features), head(mb.features)
    loss, parts = mixfeature_loss(logits, labels, mixed, mb.targets, lam)
    want, ce, kl = _numpy_loss(logits.detach(), labels, mixed.detach(), mb.targets, lam)
    assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
    assert parts == pytest.approx({"ce": ce, "kl": kl, "loss": want}, rel=1e-5)
    assert all(type(v) is float for v in parts.values())
    assert kl > 0  # mixed groups do contribute


def test_same_label_group_is_one_hot_and_adds_nothing() -> None:
    features = torch.randn(6, 4, generator=_gen(0))
    labels = _idx(*["fear"] * 6)
    mb = synthesize(features, labels, 3, DIST, _gen(0))
    one_hot = torch.zeros(2, C)
    one_hot[:, CLASSES.index("fear")] = 1
    assert torch.allclose(mb.targets, one_hot)
    assert torch.all(entropy(mb.targets) == 0)
    logits = torch.randn(6, C, generator=_gen(1))
    mixed = torch.randn(2, C, generator=_gen(2))
    loss, parts = mixfeature_loss(logits, labels, mixed, mb.targets, 0.5)
    assert parts["kl"] == 0.0
    assert float(loss) == pytest.approx(0.5 * parts["ce"], rel=1e-6)


def test_entropy_and_kl_by_hand() -> None:
    t = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    h = [math.log(2), 0.0, -sum(x * math.log(x) for x in (0.2, 0.3, 0.5))]
    np.testing.assert_allclose(entropy(t).numpy(), h, rtol=1e-6, atol=1e-7)
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1000.0, -1000.0, 0.0]])
    kl = kl_from_logits(t, logits)
    q0 = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    assert float(kl[0]) == pytest.approx(0.5 * math.log(0.5 / q0[0]) + 0.5 * math.log(0.5 / q0[1]))
    assert float(kl[1]) == pytest.approx(math.log(3))  # KL(one-hot || uniform over 3)
    assert torch.isfinite(kl[2]) and float(kl[2]) > 1000  # huge but finite: log_softmax
    assert torch.all(kl_from_logits(t, torch.log(t.clamp_min(1e-30))) < 1e-5)  # KL(t || t) = 0


def test_gradients_flow_to_the_features() -> None:
    features = torch.randn(8, 5, generator=_gen(0), requires_grad=True)
    labels = _idx("anger", "sadness", "happiness", "fear", "anger", "disgust", "surprise", "fear")
    head = torch.nn.Linear(5, C)
    mb = synthesize(features, labels, 3, DIST, _gen(4))  # 2 groups, 2 samples left out
    loss, _ = mixfeature_loss(head(features.detach()), labels, head(mb.features), mb.targets, 0.0)
    loss.backward()
    grad_norm = features.grad.norm(dim=1)
    used = mb.groups.reshape(-1)
    left_out = torch.tensor([i for i in range(8) if i not in used.tolist()])
    assert torch.all(grad_norm[used] > 0)  # lam = 0: only the mixed samples teach
    assert torch.all(grad_norm[left_out] == 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 1}, r"k \(group size\).*\[2, batch size 6\], got 1"),
        ({"k": 7}, r"k \(group size\).*got 7"),
        ({"k": 2.0}, r"k \(group size\)"),
        ({"labels": torch.tensor([0, 1, 2, 3, 4, 8])}, r"labels must lie in \[0, 7\].*to 8"),
        ({"labels": torch.tensor([0, 1, 2, 3, 4, -1])}, r"labels must lie in \[0, 7\]"),
        ({"labels": torch.zeros(5, dtype=torch.long)}, r"labels must be a vector of p = 6"),
        ({"labels": torch.zeros(6)}, r"labels must be integer"),
        ({"features": torch.zeros(6)}, r"features must be p x D"),
        ({"distances": torch.zeros(8, 7)}, r"distances must be a square"),
        ({"distances": torch.zeros(4, 4)}, r"labels must lie in \[0, 3\] \(distances is 4 x 4"),
    ],
)
def test_synthesize_rejects_bad_input(kwargs: dict, message: str) -> None:
    args = {
        "features": torch.zeros(6, 3),
        "labels": torch.tensor([0, 1, 2, 3, 4, 7]),
        "k": 3,
        "distances": DIST,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        synthesize(**args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lam": -0.1}, r"lam must lie in \[0, 1\], got -0.1"),
        ({"lam": 1.5}, r"lam must lie in \[0, 1\]"),
        ({"lam": float("nan")}, r"lam must lie in \[0, 1\]"),
        ({"labels": torch.zeros(5, dtype=torch.long)}, r"logits must be p x C with labels"),
        ({"targets": torch.zeros(3, C)}, r"mixed_logits and targets must both be m x C"),
        ({"mixed_logits": torch.zeros(0, C), "targets": torch.zeros(0, C)}, r"m >= 1"),
        ({"mixed_logits": torch.zeros(2, 5), "targets": torch.zeros(2, 5)}, r"C = 8 columns"),
    ],
)
def test_loss_rejects_bad_input(kwargs: dict, message: str) -> None:
    args = {
        "logits": torch.zeros(6, C),
        "labels": torch.zeros(6, dtype=torch.long),
        "mixed_logits": torch.zeros(2, C),
        "targets": torch.full((2, C), 1 / C),
    } | kwargs
    with pytest.raises(ValueError, match=message):
        mixfeature_loss(**args)


def test_synthesize_rejects_an_accelerator_generator() -> None:
    # A stand-in: real CUDA generators need a GPU; only ``.device`` is read before raising.
    fake = SimpleNamespace(device=torch.device("cuda"))
    features, labels = _batch(6)
    with pytest.raises(ValueError, match=r"generator must be a CPU torch.Generator"):
        synthesize(features, labels, 3, DIST, fake)  # type: ignore[arg-type]


def test_primary_by_distinct_label_gives_each_label_of_a_group_the_same_chance() -> None:
    # one group of labels (anger, anger, sadness): by member anger is primary 2/3 of the
    # time, by distinct label 1/2 (replication notes D11)
    classes = ("anger", "sadness")
    d = distance_matrix(classes, "plutchik")
    feats, labels = torch.zeros(3, 2), torch.tensor([0, 0, 1])
    counts = {"member": 0, "label": 0}
    gen = {mode: torch.Generator().manual_seed(0) for mode in counts}
    trials = 3000
    for _ in range(trials):
        for mode in counts:
            mb = synthesize(feats, labels, 3, d, gen[mode], primary=mode)
            counts[mode] += int(mb.primary[0] == 0)
    assert abs(counts["member"] / trials - 2 / 3) < 0.03
    assert abs(counts["label"] / trials - 1 / 2) < 0.03


def test_primary_draw_member_is_unchanged_and_label_mode_is_seeded() -> None:
    d = distance_matrix(CANONICAL_CLASSES, "plutchik")
    feats, labels = torch.randn(12, 4), torch.tensor([0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 7, 7])
    a = synthesize(feats, labels, 3, d, torch.Generator().manual_seed(5))
    b = synthesize(feats, labels, 3, d, torch.Generator().manual_seed(5), primary="member")
    assert torch.equal(a.primary, b.primary) and torch.equal(a.groups, b.groups)
    c = synthesize(feats, labels, 3, d, torch.Generator().manual_seed(5), primary="label")
    e = synthesize(feats, labels, 3, d, torch.Generator().manual_seed(5), primary="label")
    assert torch.equal(c.primary, e.primary) and torch.equal(a.groups, c.groups)
    assert all(int(p) in labels[g].tolist() for p, g in zip(c.primary, c.groups, strict=True))
    with pytest.raises(ValueError, match="primary must be one of member, label"):
        synthesize(feats, labels, 3, d, primary="group")


def test_batch_level_beta_weighs_every_kl_by_the_mean_entropy() -> None:
    logits, labels = torch.zeros(2, 2), torch.tensor([0, 1])
    targets = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    mixed = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    kl = kl_from_logits(targets, mixed)
    h = entropy(targets)  # 0 and log 2
    _, per_sample = mixfeature_loss(logits, labels, mixed, targets, lam=0.0)
    _, batch = mixfeature_loss(logits, labels, mixed, targets, lam=0.0, beta="batch")
    assert per_sample["kl"] == pytest.approx(float((h * kl).mean()))  # = log2 * KL_2 / 2
    assert batch["kl"] == pytest.approx(float(h.mean() * kl.mean()))  # log2/2 * (KL_1+KL_2)/2
    assert batch["kl"] != pytest.approx(per_sample["kl"])
    with pytest.raises(ValueError, match="beta must be one of sample, batch"):
        mixfeature_loss(logits, labels, mixed, targets, beta="group")


def test_the_d11_readings_are_training_options_that_leave_old_run_names_alone() -> None:
    from fer_utils.data import load_dataset
    from fer_utils.mixfeature.presets import preset
    from fer_utils.training.loop import train

    base = preset("synthetic", image_size=32, epochs=1, batch_size=32, progress=False,
                  precise_bn_images=0, model_options={"widths": [8, 8, 8]}, method="mixfeature")
    assert "mix_beta" not in base.identity() and "mix_primary" not in base.identity()
    other = base.replace(mix_beta="batch", mix_primary="label")
    assert other.identity()["mix_beta"] == "batch" and other.key() != base.key()
    ds = load_dataset("synthetic", n=120, image_size=32)
    parts = [ds.subset(ds.split_indices(s)) for s in ("train", "val")]
    losses = {cfg.key(): train(cfg, *parts).history["train_kl"].iloc[0]
              for cfg in (base, other)}
    assert all(math.isfinite(v) for v in losses.values()) and len(set(losses.values())) == 2
    with pytest.raises(ValueError, match="mix_beta"):
        base.replace(mix_beta="group")
