"""One image convention across the baselines: ``(1, C, H, W)`` images and ``(1, 1, H, W)`` depth go to both
direct alignment and feature PnP, which return ``(1, 4, 4)`` poses; results print their statistics."""

from __future__ import annotations

import pytest
import torch

from posekit.baselines.direct_alignment import align_photometric
from posekit.baselines.feature_matching import estimate_pose_essential, estimate_pose_pnp
from posekit.baselines.retrieval import RetrievalIndex
from posekit.errors import ShapeError
from posekit.geometry import PinholeIntrinsics, translation_axis_angle_to_matrix, warp_source_to_target
from tests.baselines.test_feature_matching import plane_pair  # noqa: F401  (fixture)


def test_batched_images_give_batched_poses_like_direct_alignment(plane_pair):  # noqa: F811
    source, target, depth, k, truth = plane_pair  # (C, H, W), (C, H, W), (1, H, W)
    batched = estimate_pose_pnp(source[None], target[None], depth[None], k)
    single = estimate_pose_pnp(source, target, depth, k)
    assert batched.T_src_tgt.shape == (1, 4, 4) and single.T_src_tgt.shape == (4, 4)
    torch.testing.assert_close(batched.T_src_tgt[0], single.T_src_tgt)
    assert estimate_pose_essential(source[None], target[None], k).T_src_tgt.shape == (1, 4, 4)
    grey = lambda image: image.mean(dim=0, keepdim=True)[None]  # noqa: E731
    direct = align_photometric(grey(source), grey(target), depth[None], k)
    assert direct.T_src_tgt.shape == batched.T_src_tgt.shape
    assert (direct.T_src_tgt[0].double()[:3, 3] - truth[:3, 3]).norm() < 0.01


def test_wrong_shapes_name_the_expected_one(plane_pair):  # noqa: F811
    source, target, depth, k, _ = plane_pair
    with pytest.raises(ShapeError, match=r"\(1, C, H, W\)"):
        estimate_pose_pnp(torch.stack([source, source]), torch.stack([target, target]), depth, k)
    with pytest.raises(ShapeError, match="target_depth: expected"):
        estimate_pose_pnp(source[None], target[None], depth[None, :, :10], k)


def test_results_print_statistics_not_tensors(plane_pair):  # noqa: F811
    source, target, depth, k, _ = plane_pair
    text = repr(estimate_pose_pnp(source[None], target[None], depth[None], k))
    assert text.startswith("FeaturePoseResult(success=True") and "tensor" not in text and "|t|=" in text
    image = torch.rand(1, 1, 24, 32)
    small_k = PinholeIntrinsics(30.0, 30.0, 15.5, 11.5, 32, 24)
    T = translation_axis_angle_to_matrix(torch.tensor([0.01, 0, 0, 0, 0, 0.0]))
    moved = warp_source_to_target(image, torch.ones(1, 1, 24, 32), T, small_k).warped
    text = repr(align_photometric(image, moved, torch.ones(1, 1, 24, 32), small_k))
    assert text.startswith("DirectAlignmentResult(1 pair") and "tensor" not in text and "cost=" in text
    index = RetrievalIndex.build(torch.rand(5, 8), torch.eye(4).repeat(5, 1, 1), [f"f{i}" for i in range(5)])
    assert repr(index) == "RetrievalIndex(5 images, 8-d features, first 'f0')"
