"""The installed environment has a working, matched torch + torchvision pair."""

from __future__ import annotations

import torch


def test_torchvision_imports_and_its_compiled_ops_load() -> None:
    import torchvision
    from torchvision.ops import nms

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [20, 20, 30, 30]])
    keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    assert torchvision.__version__


def test_torch_and_torchvision_are_from_the_same_release_line() -> None:
    import torchvision

    # torchvision 0.(N + 15) is built for torch 2.N (0.29 <-> 2.14); any other pairing
    # can fail at import or, worse, inside a compiled operator.
    t_major, t_minor = (int(x) for x in torch.__version__.split(".")[:2])
    v_major, v_minor = (int(x) for x in torchvision.__version__.split(".")[:2])
    assert (t_major, v_major) == (2, 0)
    assert v_minor == t_minor + 15, (torch.__version__, torchvision.__version__)


def test_resnet18_runs_on_cpu() -> None:
    from torchvision.models import resnet18

    model = resnet18(weights=None, num_classes=7).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 7)
