"""posekit: learned camera pose estimation.

Layers, bottom to top (a module imports only from its own level or below):

- ``posekit.errors``, ``posekit.fileio``, ``posekit.runs``, ``posekit.geometry``: typed exceptions, atomic files,
  the run-folder contract and pure differentiable tensor maths.
- ``posekit.metrics``: trajectory files, alignment, APE/RPE, KITTI odometry metric, pose errors.
- ``posekit.data``, ``posekit.models``, ``posekit.losses``: datasets and formats, networks, losses.
- ``posekit.mapping``, ``posekit.baselines``: maps of a scene; classical methods (direct photometric alignment,
  feature matching + PnP, retrieval).
- ``posekit.training``, ``posekit.viz``: training loops, plots and reports.
- ``posekit.evaluation``, ``posekit.localization``, ``posekit.fusion``: evaluations written into run folders,
  localisation against maps, pose fusion.
- ``posekit.cli``, ``posekit.demo``: the ``posekit`` command.
"""

__version__ = "0.1.0"
