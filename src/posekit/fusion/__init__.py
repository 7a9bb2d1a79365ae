"""Pose-graph fusion of absolute and relative pose estimates over query sequences (gtsam).

- :mod:`~posekit.fusion.measurements`: absolute and relative measurements of one record, with sigmas.
- :mod:`~posekit.fusion.graph`: the per-record pose graph (priors, between factors, robust kernels, LM).
- :mod:`~posekit.fusion.noise`: standard deviations from residual statistics (no ground truth needed).
- :mod:`~posekit.fusion.records`: frames grouped by record; one TUM file per record.
- :mod:`~posekit.fusion.sequence`: fuse every record of a sequence (never linking records).
"""
