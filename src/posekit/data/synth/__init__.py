"""Synthetic RGB-D sequences with exact ground truth: procedural rooms and streets (textured with
scikit-image's sample photographs) or a user's mesh, hand-held / driving / orbit trajectories, optional
sensor effects, rendered headless with OpenGL (moderngl on EGL) and written in the 7-Scenes or TUM layout.

Example:
    >>> from posekit.data.synth import SynthConfig, synthesize
    >>> result = synthesize(SynthConfig(frames=20, sequences=2), "out/room")  # doctest: +SKIP

Pieces, for callers with their own scene or poses::

    scene = room_scene(seed=0)
    poses = make_trajectory(TrajectoryKind.HANDHELD, scene.layout, 60, 30.0, np.random.default_rng(0))
    k = default_intrinsics(160, 120, fov_deg=57.4)
    with Renderer(scene, k) as renderer:
        frames = render_sequence(scene, poses, k, renderer=renderer)
        write_7scenes("out/room", [frames], k)
"""

from posekit.data.synth.mesh import MeshUpAxis, load_mesh_scene
from posekit.data.synth.pipeline import (
    DEFAULT_FOCAL_OVER_WIDTH,
    SceneKind,
    SynthConfig,
    SynthResult,
    build_scene,
    config_intrinsics,
    default_intrinsics,
    render_sequence,
    synthesize,
)
from posekit.data.synth.renderer import Renderer, RenderedView, projection_matrix
from posekit.data.synth.room import room_scene
from posekit.data.synth.scene import Box3, Lighting, MeshPart, RoadPath, Scene, SceneLayout
from posekit.data.synth.sensor import SensorModel
from posekit.data.synth.street import street_length_for, street_scene
from posekit.data.synth.trajectories import TrajectoryKind, look_at, make_trajectory
from posekit.data.synth.writers import SynthLayout, SyntheticFrame, write_7scenes, write_tum_rgbd

__all__ = [name for name in dir() if not name.startswith("_")]
