"""Datasets: the published on-disk formats, the absolute-pose dataset, training pairs, the transform cache.

- One module per format, each producing :class:`FrameRecord` s: :mod:`~posekit.data.sevenscenes`
  (``7scenes`` and the per-frame ``frames`` layout), :mod:`~posekit.data.cambridge`,
  :mod:`~posekit.data.apolloscape`, :mod:`~posekit.data.kitti`, :mod:`~posekit.data.tum_rgbd`,
  :mod:`~posekit.data.folder`; :func:`load_index` reads and checks a folder by format name.
- :class:`AbsolutePoseDataset` (PoseNet-style targets, normalisation from the training split only) and
  :class:`RelativePoseDataset` (pairs / snippets with ``T_src_tgt``, depth and scaled intrinsics).
- :class:`FrameTransform` (resize / crop, cached on disk by :class:`TransformCache`) and
  :class:`ColorJitter` (random, after the cache).
"""

from posekit.data.absolute import AbsolutePoseDataset
from posekit.data.cache import TransformCache, default_cache_dir
from posekit.data.formats import DatasetFormat, load_index, parse_format
from posekit.data.imaging import ImageMode, read_depth, read_image
from posekit.data.index import DatasetIndex
from posekit.data.loader import FrameLoader, LoadedFrame
from posekit.data.poses import PoseFormat, PoseStats, decode_pose, encode_pose
from posekit.data.problems import Problem, ProblemLog
from posekit.data.records import FrameRecord, Split
from posekit.data.relative import RelativePoseDataset
from posekit.data.splits import SplitAssignment, SplitPolicy, SplitSource, assign_splits
from posekit.data.transforms import ColorJitter, FrameTransform
from posekit.data.verify import VerifyLevel

__all__ = [
    "AbsolutePoseDataset",
    "ColorJitter",
    "DatasetFormat",
    "DatasetIndex",
    "FrameLoader",
    "FrameRecord",
    "FrameTransform",
    "ImageMode",
    "LoadedFrame",
    "PoseFormat",
    "PoseStats",
    "Problem",
    "ProblemLog",
    "RelativePoseDataset",
    "Split",
    "SplitAssignment",
    "SplitPolicy",
    "SplitSource",
    "TransformCache",
    "VerifyLevel",
    "assign_splits",
    "decode_pose",
    "default_cache_dir",
    "encode_pose",
    "load_index",
    "parse_format",
    "read_depth",
    "read_image",
]
