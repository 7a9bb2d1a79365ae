"""Pictures of what was learned: dataset routes, videos, warp panels, result plots and the HTML report.

Everything draws with matplotlib on the Agg canvas (no display, no pyplot state) and takes plain tensors,
arrays and :class:`~posekit.metrics.trajectory.Trajectory` objects: loading data is the caller's job.
Every ``save_*`` function writes its file atomically.

- :mod:`~posekit.viz.routes`: routes of one or all records in 3-D with a sampled frame (``save_routes_png``).
- :mod:`~posekit.viz.video`: frames with the route so far as an inset, mp4 (``write_route_video``).
- :mod:`~posekit.viz.warp_panel`: source, target, GT and predicted warps, error maps, masks.
- :mod:`~posekit.viz.trajectories`: predicted versus ground-truth trajectory, coloured by error.
- :mod:`~posekit.viz.error_plots`: error histograms and cumulative curves (m and deg).
- :mod:`~posekit.viz.training_curves`: curves from a Lightning ``CSVLogger`` ``metrics.csv``.
- :mod:`~posekit.viz.depth`: depth predictions beside sensor depth.
- :mod:`~posekit.viz.canvas`: ``figure_to_image`` / ``log_figure`` for TensorBoard, ``save_figure``.
- :mod:`~posekit.viz.report`: the self-contained HTML report of a run folder (``write_report``).
"""

from posekit.viz.canvas import figure_to_array, figure_to_image, figure_to_png_bytes, log_figure, save_figure
from posekit.viz.depth import plot_depth_comparison, save_depth_comparison_png
from posekit.viz.error_plots import ErrorSeries, plot_error_distributions, save_error_distributions_png
from posekit.viz.ground import DisplayUpAxis
from posekit.viz.report import write_report
from posekit.viz.routes import RecordRoute, SampleFrame, plot_routes, save_routes_png
from posekit.viz.training_curves import plot_training_curves, read_lightning_metrics, save_training_curves_png
from posekit.viz.trajectories import plot_trajectory_comparison, save_trajectory_comparison_png
from posekit.viz.video import write_route_video
from posekit.viz.warp_panel import WarpComparison, compare_warps, plot_warp_panel, save_warp_panel_png

__all__ = [
    "ErrorSeries",
    "RecordRoute",
    "SampleFrame",
    "DisplayUpAxis",
    "WarpComparison",
    "compare_warps",
    "figure_to_array",
    "figure_to_image",
    "figure_to_png_bytes",
    "log_figure",
    "plot_depth_comparison",
    "plot_error_distributions",
    "plot_routes",
    "plot_training_curves",
    "plot_trajectory_comparison",
    "plot_warp_panel",
    "read_lightning_metrics",
    "save_depth_comparison_png",
    "save_error_distributions_png",
    "save_figure",
    "save_routes_png",
    "save_training_curves_png",
    "save_trajectory_comparison_png",
    "save_warp_panel_png",
    "write_report",
    "write_route_video",
]
