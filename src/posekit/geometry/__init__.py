"""Pure, batched, differentiable geometry: rotations, SO(3)/SE(3), the pinhole camera, depth-pose warping.

Nothing here knows about files, datasets or networks.
"""

from posekit.geometry.camera import (
    PinholeIntrinsics,
    backproject_depth,
    batch_intrinsics,
    homogeneous_pixel_grid,
    intrinsics_to_matrix,
    project_points,
)
from posekit.geometry.lie import (
    make_pose,
    matrix_to_quaternion_translation,
    matrix_to_translation_axis_angle,
    quaternion_translation_to_matrix,
    relative_pose,
    se3_compose,
    se3_exp,
    se3_inverse,
    se3_log,
    so3_exp,
    so3_log,
    split_pose,
    transform_points,
    translation_axis_angle_to_matrix,
)
from posekit.geometry.rotations import (
    angle_between_quaternions,
    angle_between_rotations,
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    canonicalize_quaternion,
    check_rotation_matrix,
    euler_to_matrix,
    hat,
    log_to_quaternion,
    matrix_to_axis_angle,
    matrix_to_euler,
    matrix_to_quaternion,
    normalize_quaternion,
    quaternion_conjugate,
    quaternion_multiply,
    quaternion_raw_multiply,
    quaternion_to_axis_angle,
    quaternion_to_log,
    quaternion_to_matrix,
    rotation_matrix_angle,
    vee,
)
from posekit.geometry.warp import (
    TargetProjection,
    WarpResult,
    project_target_to_source,
    sample_at_pixels,
    warp_source_to_target,
)

__all__ = [name for name in dir() if not name.startswith("_")]
