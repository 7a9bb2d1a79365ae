"""The self-supervised objectives: lowest at the true pose on real 7-Scenes pairs (sensor depth) and on a
synthetic sequence (monocular loss with the true depth), auto-masking of a static camera, gradients."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import default_collate

from posekit.data import RelativePoseDataset, load_index
from posekit.geometry import translation_axis_angle_to_matrix
from posekit.geometry.pyramid import image_pyramid
from posekit.losses.selfsup import (
    known_depth_photometric_error,
    known_depth_photometric_loss,
    monocular_photometric_loss,
)
from posekit.training.common import cover_and_crop
from posekit.training.frame_data import FrameRange, restrict_to_frames
from tests.conftest import require_real_data

# Perturbations (t, omega) of the true T_src_tgt: 5 cm along each axis, 3 degrees about each axis. Smaller ones
# (2 cm, 1 deg) are not always worse on this data: the Kinect depth is not registered to the colour image, so
# the photometric optimum lies up to about 2 cm / 1 deg from the ground truth (see the foundation issue). Even
# 5 cm is not worse on every pair: on 175 -> 180 at 120 x 160 the masked L1 error falls from 0.051 at the
# ground truth to 0.025 at +3..5 cm in x (strong edge errors at the truth; the mean over the valid mask also
# rewards pushing them out of view), hence "at most one pair in twelve" below.
PERTURBATIONS = [[0.05, 0, 0, 0, 0, 0], [0, -0.05, 0, 0, 0, 0], [0, 0, 0.05, 0, 0, 0],
                 [0, 0, 0, math.radians(3), 0, 0], [0, 0, 0, 0, -math.radians(3), 0], [0, 0, 0, 0, 0, math.radians(3)]]


def _perturbed(T_src_tgt: torch.Tensor, delta) -> torch.Tensor:
    return translation_axis_angle_to_matrix(torch.tensor(delta, dtype=T_src_tgt.dtype)) @ T_src_tgt


@pytest.fixture(scope="module")
def real_pairs(shared_cache):  # noqa: F811
    """12 real pairs of the 7-Scenes excerpt (the ``sevenscenes_dir`` data) at distance 5 spread over frames
    0-299, at 120 x 160, with sensor depth."""
    index = restrict_to_frames(load_index("frames", require_real_data("7scenes_redkitchen_seq01")), FrameRange(0, 299))
    dataset = RelativePoseDataset(index, distances=5, transform=cover_and_crop(index, 120, 160), cache=True,
                                  cache_dir=shared_cache)
    return default_collate([dataset[i] for i in range(0, len(dataset), 25)])


@pytest.mark.parametrize("ssim_weight,edge_weight,levels", [(0.0, 0.0, 1), (0.85, 0.0, 1), (0.0, 1.0, 1), (0.85, 0.0, 3)])
def test_known_depth_loss_is_lower_at_the_true_pose_on_real_pairs(real_pairs, ssim_weight, edge_weight, levels):
    b = real_pairs
    args = (b["source_image"], b["target_image"], b["target_depth"])
    at_truth, valid = known_depth_photometric_error(*args, b["T_src_tgt"], b["intrinsics"], ssim_weight, edge_weight, levels)
    assert bool((valid > 0.5).all()), valid
    ratios = []
    for delta in PERTURBATIONS:
        perturbed, _ = known_depth_photometric_error(*args, _perturbed(b["T_src_tgt"], delta), b["intrinsics"],
                                                     ssim_weight, edge_weight, levels)
        assert int((perturbed <= at_truth).sum()) <= 1, (delta, perturbed / at_truth)
        assert float(perturbed.mean()) > 1.3 * float(at_truth.mean()), delta
        ratios.append(perturbed / at_truth)
    assert float(torch.stack(ratios).median()) > 1.5


def test_pyramid_levels_halve_images_depth_and_intrinsics(real_pairs):
    """Each level halves the images (2x2 means) and the intrinsics (pixel-centre convention): the identity warp
    reproduces every level's target exactly, and the pyramid stops before a side below the minimum size."""
    b = real_pairs
    levels = list(image_pyramid(b["target_image"], b["target_image"], b["target_depth"], b["intrinsics"], 6, min_size=16))
    assert [tuple(level[0].shape[-2:]) for level in levels] == [(120, 160), (60, 80), (30, 40)]
    torch.testing.assert_close(levels[1][3][0], torch.stack((b["intrinsics"][0, :2] / 2, (b["intrinsics"][0, 2:] - 0.5) / 2)).flatten())
    for source, target, depth, k in levels:
        error, _ = known_depth_photometric_error(source, target, depth, torch.eye(4).expand(target.shape[0], 4, 4), k)
        assert float(error.max()) < 1e-4
    # a known holed depth: a 2x2 block with one known depth keeps it, one without any stays unknown
    depth = torch.zeros(1, 1, 4, 4)
    depth[0, 0, 0, 1] = 2.0
    (_, _, _, _), (_, _, coarse, _) = image_pyramid(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), depth,
                                                    torch.ones(4), 2, min_size=1)
    assert coarse[0, 0].tolist() == [[2.0, 0.0], [0.0, 0.0]]


def test_known_depth_loss_gradient_points_back_to_the_truth(real_pairs):
    """A small gradient step on the pose from a perturbed start reduces the loss (the loss is usable for learning)."""
    b = real_pairs
    vector = torch.zeros(b["T_src_tgt"].shape[0], 6, requires_grad=True)
    start = torch.tensor(PERTURBATIONS[0], dtype=torch.float32)

    def loss_at(v):
        T = translation_axis_angle_to_matrix(start + v) @ b["T_src_tgt"]
        return known_depth_photometric_loss(b["source_image"], b["target_image"], b["target_depth"], T, b["intrinsics"]).total

    loss = loss_at(vector)
    loss.backward()
    assert bool(torch.isfinite(vector.grad).all()) and float(vector.grad.abs().sum()) > 0
    assert float(vector.grad[:, 0].mean()) > 0  # the start is +5 cm in x: the loss grows with x
    with torch.no_grad():
        stepped = loss_at(-1e-2 * vector.grad / vector.grad.abs().max())
    assert float(stepped) < float(loss.detach())


def _true_disparity(depth: torch.Tensor, min_depth: float, max_depth: float) -> torch.Tensor:
    """The sigmoid disparity whose depth (``disparity_to_depth``) is ``depth`` (holes: the far limit)."""
    depth = torch.where(depth > 0, depth, torch.full_like(depth, max_depth)).clamp(min_depth, max_depth)
    return (1 / depth - 1 / max_depth) / (1 / min_depth - 1 / max_depth)


@pytest.fixture(scope="module")
def synth_snippets(synth_sequence, shared_cache):  # noqa: F811
    """Snippets of three frames (t - 2, t, t + 2) of the synthetic sequence, with exact depth, at 64 x 96."""
    index = load_index(synth_sequence.format, synth_sequence.root)
    dataset = RelativePoseDataset(index, distances=2, snippet_length=3, transform=cover_and_crop(index, 64, 96),
                                  cache=True, cache_dir=shared_cache)
    return default_collate([dataset[i] for i in range(0, len(dataset), 6)])


def _monocular(batch, T_src_tgt, automask=True, sources=None):
    min_depth, max_depth = 0.1, 10.0
    disparity = _true_disparity(batch["target_depth"], min_depth, max_depth)
    pyramid = [disparity] + [torch.nn.functional.interpolate(disparity, scale_factor=0.5 ** s, mode="bilinear",
                                                             align_corners=False) for s in (1, 2, 3)]
    return monocular_photometric_loss(batch["target_image"], batch["source_images"] if sources is None else sources,
                                      pyramid, T_src_tgt, batch["intrinsics"], min_depth=min_depth, max_depth=max_depth,
                                      automask=automask)


def test_monocular_loss_with_true_depth_is_lower_at_the_true_poses(synth_snippets):
    b = synth_snippets
    at_truth = _monocular(b, b["T_src_tgt"])
    assert 0.0 < float(at_truth.valid_fraction) <= 1.0
    for delta in PERTURBATIONS:
        perturbed = _monocular(b, _perturbed(b["T_src_tgt"], delta))
        assert float(perturbed.photometric) > float(at_truth.photometric), delta
    # the smoothness term is present and finite
    assert float(at_truth.smoothness) > 0 and math.isfinite(float(at_truth.total))


def test_automask_removes_a_static_camera(synth_snippets):
    """Sources identical to the target (a camera at rest): every pixel is explained by the unwarped source, so
    auto-masking drops (almost) all of them, whatever pose is predicted."""
    b = synth_snippets
    static = b["target_image"][:, None].expand_as(b["source_images"]).clone()
    wrong = _perturbed(b["T_src_tgt"], PERTURBATIONS[3])
    masked = _monocular(b, wrong, automask=True, sources=static)
    assert float(masked.automask_fraction) > 0.99
    unmasked = _monocular(b, wrong, automask=False, sources=static)
    assert float(unmasked.automask_fraction) == 0.0 and float(unmasked.photometric) > 0.01
