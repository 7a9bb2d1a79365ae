"""Pose-graph fusion of absolute and relative pose estimates over query sequences (gtsam).

- :mod:`~posekit.fusion.measurements`: absolute and relative measurements of one record, with sigmas.
- :mod:`~posekit.fusion.graph`: the per-record pose graph (priors, between factors, robust kernels, LM).
- :mod:`~posekit.fusion.sequence`: fuse every record of a sequence (never linking records), VO mode.
- :mod:`~posekit.fusion.noise`: standard deviations from residual statistics (no ground truth needed).
- :mod:`~posekit.fusion.odometry`: consecutive-frame VO with the baselines (direct alignment, ORB + PnP,
  essential matrix).
- :mod:`~posekit.metrics.records`: frames grouped by record, one TUM file per record, APE/RPE per record.
- :mod:`~posekit.fusion.inputs`, :mod:`~posekit.fusion.files`, :mod:`~posekit.fusion.outputs`: what
  ``posekit fuse`` reads and writes.

Poses are ``T_world_cam``; a relative measurement between frames i and j is ``T_i_j = inv(T_world_i) @
T_world_j``; sigmas are ``(t [m], omega [rad])`` 6-vectors.
"""
