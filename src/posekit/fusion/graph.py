"""A pose graph over one record, solved with gtsam: absolute priors + relative factors, robust kernels, LM.

Each frame ``k`` of the record is a ``Pose3`` variable holding ``T_world_cam`` (gtsam's ``Pose3`` is a
body-to-world pose, the same direction). An absolute measurement is a ``PriorFactorPose3``; a relative one
``T_i_j = inv(T_world_i) @ T_world_j`` is ``BetweenFactorPose3(i, j, T_i_j)``, whose error is
``Logmap(inv(T_i_j) @ inv(T_world_i) @ T_world_j)``. gtsam orders tangent vectors ``(omega, t)``; posekit's
sigmas are ``(t, omega)`` and are reordered here. Robust kernels act on the norm of the whole whitened 6-D
residual (gtsam's ``noiseModel.Robust``), so their threshold is in standard deviations of that norm (a
correct 6-D residual has a norm of about 2.4 on average, and below 3.5 in 95 % of cases).

One graph is built per record: frames of different records are never linked. gtsam is imported inside the
functions, so importing posekit does not need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import torch

from posekit.errors import ConfigError, TrajectoryError
from posekit.fusion.measurements import AbsoluteMeasurements, RelativeMeasurements
from posekit.geometry import se3_inverse


class RobustKernel(str, Enum):
    """Robust loss on a factor's whitened residual norm."""

    NONE = "none"
    HUBER = "huber"
    CAUCHY = "cauchy"


@dataclass(frozen=True)
class FusionOptions:
    """Settings of :func:`fuse_record`.

    Attributes:
        robust: kernel on the absolute factors (where outliers come from: a wrong relocalisation).
        robust_relative: whether the relative factors get the same kernel (a failed VO step).
        kernel_threshold: the kernel's parameter ``k`` on the whitened residual norm (standard deviations).
        max_iterations: Levenberg-Marquardt iterations.
        relative_tolerance: LM stops when the relative decrease of the error is below this.
    """

    robust: RobustKernel = RobustKernel.HUBER
    robust_relative: bool = True
    kernel_threshold: float = 3.0
    max_iterations: int = 100
    relative_tolerance: float = 1e-8

    def __post_init__(self) -> None:
        object.__setattr__(self, "robust", RobustKernel(self.robust))
        if not (self.kernel_threshold == self.kernel_threshold and 0.0 < self.kernel_threshold < float("inf")):
            raise ConfigError(f"kernel_threshold must be finite and positive, got {self.kernel_threshold!r}")
        if self.max_iterations < 1:
            raise ConfigError(f"max_iterations must be >= 1, got {self.max_iterations}")


@dataclass(eq=False)
class FusionResult:
    """Output of :func:`fuse_record`.

    Attributes:
        T_world_cam: ``(N, 4, 4)`` float64 fused poses.
        initial_error, final_error: gtsam graph error (0.5 * sum of squared whitened, robustified residuals).
        iterations: LM iterations run.
        absolute_residual: ``(N,)`` float64 whitened residual norm of each frame's absolute factor at the
            solution (NaN where the frame has none); large values mark absolute outliers.
        anchored: ``(N,)`` bool, False for frames linked to no absolute factor: they are not in the graph and
            keep their input pose (see :func:`initial_poses`).
    """

    T_world_cam: torch.Tensor
    initial_error: float
    final_error: float
    iterations: int
    absolute_residual: torch.Tensor
    anchored: torch.Tensor


def _gtsam():
    import gtsam  # noqa: PLC0415  (optional heavy dependency, imported on use)

    return gtsam


def _noise_model(gtsam, sigmas_t_omega: torch.Tensor, kernel: RobustKernel, threshold: float):
    """gtsam noise model from posekit ``(t, omega)`` sigmas (reordered to gtsam's ``(omega, t)``)."""
    sigmas = sigmas_t_omega.detach().cpu().double().numpy()
    base = gtsam.noiseModel.Diagonal.Sigmas(np.concatenate((sigmas[3:], sigmas[:3])))
    if kernel is RobustKernel.NONE:
        return base
    estimator = gtsam.noiseModel.mEstimator
    loss = (estimator.Huber if kernel is RobustKernel.HUBER else estimator.Cauchy).Create(threshold)
    return gtsam.noiseModel.Robust.Create(loss, base)


def _pose3(gtsam, pose: torch.Tensor):
    return gtsam.Pose3(pose.detach().cpu().double().numpy())


def initial_poses(absolute: AbsoluteMeasurements, relative: RelativeMeasurements) -> tuple[torch.Tensor, torch.Tensor]:
    """Starting values: the absolute measurement where a frame has one, else propagated along relative
    measurements from an initialised neighbour (forwards and backwards, as far as the links go).

    Returns:
        ``(N, 4, 4)`` poses and ``anchored`` ``(N,)`` bool: whether the frame is linked (directly or through
        relative measurements) to an absolute factor. An unanchored frame keeps its input pose (e.g. a
        localisation flagged as failed, between two other failures, with no relative pose to its neighbours).

    Raises:
        TrajectoryError: an unanchored frame without a finite input pose (nothing says where it is).
    """
    n = len(absolute)
    poses = absolute.T_world_cam.clone()
    known = absolute.valid.clone()
    T_j_i = se3_inverse(relative.T_i_j)
    changed = True
    while changed and not bool(known.all()):
        changed = False
        for m, (i, j) in enumerate(relative.pairs.tolist()):
            if known[i] and not known[j]:
                poses[j], known[j], changed = poses[i] @ relative.T_i_j[m], True, True
            elif known[j] and not known[i]:
                poses[i], known[i], changed = poses[j] @ T_j_i[m], True, True
    unplaced = ~known & ~torch.isfinite(poses).flatten(1).all(dim=1)
    if bool(unplaced.any()):
        missing = int(unplaced.nonzero()[0])
        raise TrajectoryError(
            f"frame {missing} of {n} is linked to no absolute measurement and has no pose of its own "
            "(add a fix or a relative measurement)"
        )
    return poses, known


def fuse_record(
    absolute: AbsoluteMeasurements, relative: RelativeMeasurements, options: FusionOptions = FusionOptions()
) -> FusionResult:
    """Fuse the absolute and relative measurements of one record into one trajectory (maximum a posteriori
    under the given sigmas and kernel), by Levenberg-Marquardt.

    Args:
        absolute: ``N`` frames (valid ones give a prior factor).
        relative: pairs of frames of this record.
        options: :class:`FusionOptions`.

    Returns:
        :class:`FusionResult` with ``(N, 4, 4)`` poses.

    Raises:
        TrajectoryError: no absolute measurement, a pair outside the record, a frame linked to no fix that
            has no finite input pose either.
    """
    n = len(absolute)
    if n == 0:
        raise TrajectoryError("fuse_record: the record has no frames")
    if not bool(absolute.valid.any()):
        raise TrajectoryError("fuse_record: the record has no valid absolute measurement (its pose is unobservable)")
    relative.check_frames(n)
    gtsam = _gtsam()
    values = gtsam.Values()
    start, anchored = initial_poses(absolute, relative)
    for k in anchored.nonzero().reshape(-1).tolist():
        values.insert(k, _pose3(gtsam, start[k]))
    # Stage 1: plain relative factors, so that a gross absolute outlier in the starting values cannot make a
    # robust kernel give up the (correct) relative factors around it. Stage 2 (robust relative factors) starts
    # from stage 1's solution.
    graph, absolute_factor_of = _build_graph(gtsam, absolute, relative, anchored, options, robust_relative=False)
    initial_error = float(graph.error(values))
    result, iterations = _optimize(gtsam, graph, values, options)
    if options.robust_relative and options.robust is not RobustKernel.NONE:
        graph, absolute_factor_of = _build_graph(gtsam, absolute, relative, anchored, options, robust_relative=True)
        result, more = _optimize(gtsam, graph, result, options)
        iterations += more
    fused = start.clone()
    for k in anchored.nonzero().reshape(-1).tolist():
        fused[k] = torch.from_numpy(result.atPose3(k).matrix()).double()
    residual = torch.full((n,), float("nan"), dtype=torch.float64)
    for k, index in absolute_factor_of.items():
        residual[k] = float(np.linalg.norm(_whitened_base(graph.at(index), result, absolute.sigmas[k])))
    return FusionResult(fused, initial_error, float(graph.error(result)), iterations, residual, anchored)


def _build_graph(gtsam, absolute: AbsoluteMeasurements, relative: RelativeMeasurements, anchored: torch.Tensor,
                 options: FusionOptions, robust_relative: bool):
    """The factor graph and, for each frame with an absolute factor, the factor's index."""
    graph = gtsam.NonlinearFactorGraph()
    absolute_factor_of: dict[int, int] = {}
    for k in absolute.valid.nonzero().reshape(-1).tolist():
        model = _noise_model(gtsam, absolute.sigmas[k], options.robust, options.kernel_threshold)
        absolute_factor_of[k] = graph.size()
        graph.add(gtsam.PriorFactorPose3(k, _pose3(gtsam, absolute.T_world_cam[k]), model))
    relative_kernel = options.robust if robust_relative else RobustKernel.NONE
    for m, (i, j) in enumerate(relative.pairs.tolist()):
        if not (anchored[i] and anchored[j]):
            continue  # a link between two unanchored frames: outside the graph
        model = _noise_model(gtsam, relative.sigmas[m], relative_kernel, options.kernel_threshold)
        graph.add(gtsam.BetweenFactorPose3(i, j, _pose3(gtsam, relative.T_i_j[m]), model))
    return graph, absolute_factor_of


def _optimize(gtsam, graph, values, options: FusionOptions):
    params = gtsam.LevenbergMarquardtParams()
    params.setMaxIterations(options.max_iterations)
    params.setRelativeErrorTol(options.relative_tolerance)
    optimizer = gtsam.LevenbergMarquardtOptimizer(graph, values, params)
    return optimizer.optimize(), int(optimizer.iterations())


def _whitened_base(factor, values, sigmas_t_omega: torch.Tensor) -> np.ndarray:
    """The factor's residual whitened by its sigmas alone (without the robust weight)."""
    sigmas = sigmas_t_omega.double().numpy()
    return factor.unwhitenedError(values) / np.concatenate((sigmas[3:], sigmas[:3]))
