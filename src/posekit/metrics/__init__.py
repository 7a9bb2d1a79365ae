"""Trajectory files and the metrics every experiment is judged by.

- :mod:`~posekit.metrics.trajectory`: the :class:`Trajectory` container (``T_world_cam`` poses).
- :mod:`~posekit.metrics.trajectory_files`: TUM, KITTI, 7-Scenes/SUN3D, EuRoC and visloc files.
- :mod:`~posekit.metrics.sync`: timestamp association (evo's ``associate_trajectories``).
- :mod:`~posekit.metrics.alignment`: Umeyama SE(3) / Sim(3) / scale alignment.
- :mod:`~posekit.metrics.statistics`: rmse, mean, median, std, min, max, sse.
- :mod:`~posekit.metrics.ape_rpe`: APE and RPE with evo's definitions.
- :mod:`~posekit.metrics.kitti_odometry`: the KITTI devkit metric and kitti-odom-eval's ATE / RPE.
- :mod:`~posekit.metrics.pose_errors`: per-frame absolute pose errors, recall, relative pose errors.
- :mod:`~posekit.metrics.results`: saved evaluation results (JSON, npz; evo's zip files read).
- :mod:`~posekit.metrics.trajectory_eval`: a file pair read, synchronised, aligned and evaluated.
"""

from posekit.metrics.alignment import (
    AlignmentType,
    Similarity,
    align_origin,
    align_trajectory,
    apply_similarity,
    umeyama_alignment,
)
from posekit.metrics.ape_rpe import (
    MetricResult,
    PoseRelation,
    Unit,
    ape_errors,
    compute_ape,
    compute_rpe,
    error_unit,
    rotation_angle,
    rpe_errors,
    rpe_pairs,
)
from posekit.metrics.kitti_odometry import (
    KittiAlignment,
    KittiOdometryResult,
    KittiSegmentErrors,
    evaluate_kitti_odometry,
    kitti_rotation_error,
    kitti_segment_errors,
    kitti_translation_error,
    trajectory_distances,
)
from posekit.metrics.pose_errors import (
    PoseErrors,
    PoseErrorSummary,
    RelativePoseErrors,
    absolute_pose_errors,
    pose_errors_by_name,
    relative_pose_errors,
)
from posekit.metrics.statistics import StatisticsType, compute_statistic, compute_statistics, median
from posekit.metrics.results import EvaluationRecord, load_record, save_record
from posekit.metrics.sync import (
    associate_by_interpolation,
    associate_trajectories,
    crop_to_time_range,
    interpolate_poses,
    matching_time_indices,
)
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import (
    kitti_frame_indices,
    read_euroc_csv,
    read_frame_pose_folder,
    read_kitti,
    read_kitti_times,
    read_pose_matrix_file,
    read_tum,
    read_visloc_poses,
    write_euroc_csv,
    write_kitti,
    write_kitti_times,
    write_pose_matrix_file,
    write_tum,
    write_visloc_poses,
)

__all__ = [
    "AlignmentType",
    "KittiAlignment",
    "KittiOdometryResult",
    "KittiSegmentErrors",
    "MetricResult",
    "PoseErrorSummary",
    "PoseErrors",
    "PoseRelation",
    "RelativePoseErrors",
    "Similarity",
    "StatisticsType",
    "Trajectory",
    "Unit",
    "absolute_pose_errors",
    "align_trajectory",
    "ape_errors",
    "apply_similarity",
    "associate_trajectories",
    "compute_ape",
    "compute_rpe",
    "compute_statistic",
    "compute_statistics",
    "error_unit",
    "evaluate_kitti_odometry",
    "kitti_frame_indices",
    "kitti_rotation_error",
    "kitti_segment_errors",
    "kitti_translation_error",
    "matching_time_indices",
    "median",
    "pose_errors_by_name",
    "read_euroc_csv",
    "read_frame_pose_folder",
    "read_kitti",
    "read_kitti_times",
    "read_pose_matrix_file",
    "read_tum",
    "read_visloc_poses",
    "relative_pose_errors",
    "rotation_angle",
    "rpe_errors",
    "rpe_pairs",
    "trajectory_distances",
    "umeyama_alignment",
    "write_euroc_csv",
    "write_kitti",
    "write_kitti_times",
    "write_pose_matrix_file",
    "write_tum",
    "write_visloc_poses",
]
