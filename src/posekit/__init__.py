"""posekit: learned camera pose estimation.

Layers, bottom to top (a module imports only from its own level or below):

- ``posekit.errors``, ``posekit.geometry``: typed exceptions and pure differentiable tensor maths.
- ``posekit.metrics``: trajectory files, alignment, APE/RPE, KITTI odometry metric, pose errors.
- ``posekit.data``, ``posekit.models``, ``posekit.losses``: datasets and formats, networks, losses.
- ``posekit.baselines``: classical methods (direct photometric alignment, feature matching + PnP).
- ``posekit.training``, ``posekit.viz``: training loops, plots and reports.
- ``posekit.cli``, ``posekit.demo``: the ``posekit`` command.
"""

__version__ = "0.1.0"
