"""The packaged EfficientNet-Lite0 ImageNet weights classify real photographs correctly, which checks the
architecture (TensorFlow "SAME" padding, ReLU6, BatchNorm eps), the weight loading and the preprocessing at once."""

from __future__ import annotations

import pytest
import skimage.data
import torch
import torch.nn.functional as F

from posekit.models.backbones import create_backbone

# ImageNet class indices.
CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {504, 967, 968}  # coffee mug, espresso, cup


def _center_crop_224(image) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(1, 3, 224, 224)`` float in [0, 1]: central square, resized with antialiasing."""
    x = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255.0
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    x = x[..., top : top + side, left : left + side]
    return F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True, align_corners=False)


@pytest.fixture(scope="module")
def classifier():
    return create_backbone("efficientnet_lite0", pretrained=True, include_classifier=True).eval()


@pytest.mark.parametrize(
    "image, classes",
    [(skimage.data.chelsea, CAT_CLASSES), (skimage.data.coffee, COFFEE_CLASSES)],
    ids=["chelsea-cat", "coffee-cup"],
)
def test_efficientnet_lite0_classifies_photographs(classifier, image, classes):
    with torch.no_grad():
        probabilities = classifier.classify(_center_crop_224(image())).softmax(-1)[0]
    top5 = probabilities.topk(5).indices.tolist()
    assert top5[0] in classes, top5
    assert float(probabilities[sorted(classes)].sum()) > 0.8
