"""Small but realistic inputs for the viz tests: trajectories, image pairs and a whole run folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from posekit.geometry import PinholeIntrinsics, make_pose, se3_exp, so3_exp, warp_source_to_target
from posekit.metrics.pose_errors import absolute_pose_errors
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_tum
from posekit.runs import write_frame_errors

# A Lightning 2.6 CSVLogger file as written by a run with train_loss (on_step and on_epoch), a train/ metric and
# two validation metrics, log_every_n_steps=2, 8 batches an epoch (cut to 3 epochs).
LIGHTNING_METRICS_CSV = """\
epoch,step,train/rot_err_deg,train_loss_epoch,train_loss_step,val/median_translation_m,val_loss
0,1,22.08102798461914,,2.2081027030944824,,
0,3,3.724597692489624,,0.3724597692489624,,
0,5,1.5019381046295166,,0.15019381046295166,,
0,7,0.3806328773498535,,0.03806328773498535,,
0,7,,,,0.41,0.024529
0,7,,0.6953,,,
1,9,0.2441,,0.02441,,
1,11,0.031,,0.0031,,
1,13,0.0229,,0.00229,,
1,15,0.0056,,0.00056,,
1,15,,,,0.33,0.00031
1,15,,0.0081,,,
2,17,0.0028,,0.00028,,
2,19,0.00022,,0.000022,,
2,21,0.0004,,0.00004,,
2,23,0.0001,,0.00001,,
2,23,,,,0.29,0.0000052
2,23,,0.000105,,,
"""

CONFIG_YAML = """# resolved configuration of the run
task: absolute_pose
dataset:
  format: tum
  path: /data/fr2_desk
  image_size: [120, 160]
model:
  backbone: resnet18
  pretrained: false
training:
  epochs: 3
  lr: 0.0003
  batch_size: 8
loss:
  beta: 250.0
"""


def helix_trajectory(n: int = 120, seconds: float = 12.0) -> Trajectory:
    """A camera on a rising circle of radius 1.5 m looking at its centre, z up (OpenCV axes)."""
    t = torch.linspace(0.0, 2 * math.pi, n, dtype=torch.float64)
    centres = torch.stack([1.5 * torch.cos(t), 1.5 * torch.sin(t), 1.0 + 0.1 * t], dim=-1)
    forward = -centres * torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
    forward = forward / forward.norm(dim=-1, keepdim=True)
    down = torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64).expand_as(forward)
    right = torch.cross(down, forward, dim=-1)
    rotations = torch.stack([right, down, forward], dim=-1)  # columns: camera x, y, z in the world
    return Trajectory(make_pose(rotations, centres), torch.linspace(0.0, seconds, n, dtype=torch.float64))


def perturbed(traj: Trajectory, translation_sigma: float, rotation_sigma_rad: float, seed: int) -> Trajectory:
    """``traj`` with random pose noise (a prediction)."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.cat([
        torch.randn(len(traj), 3, generator=generator, dtype=torch.float64) * translation_sigma,
        torch.randn(len(traj), 3, generator=generator, dtype=torch.float64) * rotation_sigma_rad,
    ], dim=-1)
    return traj.with_poses(traj.poses @ se3_exp(noise))


def textured_pair(height: int = 48, width: int = 64):
    """A smooth random texture (the source) and the target view of it, rendered as a fronto-parallel plane
    2 m in front of the target camera, which is 10 cm to the side and turned by 1 degree.

    Returns ``(source, target, target_depth, T_src_tgt, intrinsics)``: ``(3, H, W)`` images, ``(1, H, W)``
    depth, a float32 ``(4, 4)`` pose. The ground-truth warp reproduces the target wherever it is valid.
    """
    intrinsics = PinholeIntrinsics(60.0, 60.0, (width - 1) / 2, (height - 1) / 2, width, height)
    generator = torch.Generator().manual_seed(3)
    coarse = torch.rand(1, 3, 6, 8, generator=generator)
    source = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True)
    source = source.clamp(0.0, 1.0)[0]
    T_src_tgt = make_pose(so3_exp(torch.tensor([0.0, 0.02, 0.0])), torch.tensor([0.1, 0.0, 0.0]))
    depth = torch.full((1, height, width), 2.0)
    target = warp_source_to_target(source[None], depth[None], T_src_tgt, intrinsics).warped[0]
    return source, target, depth, T_src_tgt, intrinsics


def make_run_folder(root: Path, ground_truth: Trajectory, with_figures: bool = True) -> Path:
    """A run folder with every part the report reads (see posekit.runs)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(CONFIG_YAML, encoding="utf-8")
    eval_dir = root / "eval"
    write_tum(eval_dir / "groundtruth.tum", ground_truth)
    posenet = perturbed(ground_truth, 0.05, 0.03, seed=1)
    retrieval = perturbed(ground_truth, 0.12, 0.06, seed=2)
    write_tum(eval_dir / "posenet.tum", posenet)
    write_tum(eval_dir / "retrieval.tum", retrieval)  # no CSV: the report computes its errors
    errors = absolute_pose_errors(ground_truth.poses, posenet.poses)
    write_frame_errors(eval_dir / "posenet.csv", errors, [f"{t:.4f}" for t in ground_truth.timestamps.tolist()])
    summary = errors.summary()
    (eval_dir / "posenet.json").write_text(json.dumps({
        "median_translation_m": summary.median_translation,
        "median_rotation_deg": summary.median_rotation_deg,
        "recall_5cm_5deg": summary.recall[(0.05, 5.0)],
    }), encoding="utf-8")
    (eval_dir / "retrieval.json").write_text(json.dumps({"median_translation_m": 0.2, "database": 400}),
                                             encoding="utf-8")
    (root / "metrics.json").write_text(json.dumps({
        "best_epoch": 2, "train_seconds": 84.5,
        "posenet": {"val_loss": 5.2e-6}, "relative": {"rpe_trans_m": 0.012, "rpe_rot_deg": 0.4},
    }), encoding="utf-8")
    logs = root / "logs" / "posenet" / "version_0"
    logs.mkdir(parents=True)
    (logs / "metrics.csv").write_text(LIGHTNING_METRICS_CSV, encoding="utf-8")
    if with_figures:
        from posekit.viz.warp_panel import compare_warps, save_warp_panel_png

        source, target, depth, T_src_tgt, intrinsics = textured_pair()
        T_pred = T_src_tgt @ se3_exp(torch.tensor([0.05, 0.0, 0.0, 0.0, 0.02, 0.0]))
        comparison = compare_warps(source, target, depth, T_src_tgt, T_pred, intrinsics)
        save_warp_panel_png(root / "figures" / "warp_pair_0.png", comparison, "pair 0")
    return root
