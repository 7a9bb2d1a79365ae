"""ResNet-18/34/50 with torchvision's module and parameter names, so torchvision's ImageNet state dicts load with
``strict=True`` without torchvision being installed.

The layers follow torchvision's ``ResNet`` exactly (ResNet v1.5: the stride of a Bottleneck sits on its 3x3
convolution; BatchNorm eps 1e-5; ``conv1``/``bn1``/``relu``/``maxpool``, ``layer1`` ... ``layer4`` of
``BasicBlock``/``Bottleneck`` with ``downsample.0`` (1x1 conv) and ``downsample.1`` (BatchNorm), ``fc``).
Inputs are normalised with the ImageNet mean and std.

Feature levels: stride 2 after ``relu(bn1(conv1))``, then ``layer1`` (after the max-pool), ``layer2``,
``layer3``, ``layer4`` (Monodepth2's ResNet encoder). Channels 64, 64, 128, 256, 512 for ResNet-18/34 and
64, 256, 512, 1024, 2048 for ResNet-50.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from posekit.models.backbones.base import IMAGENET_MEAN, IMAGENET_STD, Backbone

# torchvision's published ImageNet weights (IMAGENET1K_V1), the ones ``pretrained=True`` fetches through
# torch.hub; the hash prefix in each file name is checked after download.
TORCHVISION_URLS = {
    "resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet34": "https://download.pytorch.org/models/resnet34-b627a593.pth",
    "resnet50": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
}


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 - 3x3 (strided) - 1x1 convolutions with a residual connection (ResNet-50)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(Backbone):
    """torchvision-compatible ResNet encoder.

    Example:
        >>> net = ResNet(BasicBlock, (2, 2, 2, 2), name="resnet18")
        >>> [f.shape[1] for f in net.features(torch.rand(1, 3, 64, 64))]
        [64, 64, 128, 256, 512]
    """

    first_conv_name = "conv1"
    classifier_name = "fc"

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: tuple[int, int, int, int], name: str,
                 num_classes: int = 1000):
        widths = (64, 128, 256, 512)
        super().__init__([64, 64 * block.expansion] + [w * block.expansion for w in widths[1:]],
                         IMAGENET_MEAN, IMAGENET_STD)
        self.name = name
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int,
                    stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * block.expansion, stride), nn.BatchNorm2d(planes * block.expansion)
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn1(self.conv1(x)))

    def _pool_and_layer1(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer1(self.maxpool(x))

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        return [self._stem, self._pool_and_layer1, self.layer2, self.layer3, self.layer4]


def resnet18() -> ResNet:
    return ResNet(BasicBlock, (2, 2, 2, 2), name="resnet18")


def resnet34() -> ResNet:
    return ResNet(BasicBlock, (3, 4, 6, 3), name="resnet34")


def resnet50() -> ResNet:
    return ResNet(Bottleneck, (3, 4, 6, 3), name="resnet50")
