"""``posekit synth``: render a synthetic RGB-D dataset with exact poses, in the 7-Scenes or TUM layout.

Example::

    posekit synth --scene room --trajectory handheld --frames 300 --size 240x320 --fps 30 --seed 1 \\
        --sequences 3 --format 7scenes --out data/synth-room
    posekit synth --scene street --trajectory driving --frames 200 --fps 10 --out data/synth-street
    posekit synth --mesh model.glb --trajectory orbit --frames 120 --out data/my-model
"""

from __future__ import annotations

from pathlib import Path

import click

from posekit.cli.options import IMAGE_SIZE, IMAGE_SIZE_HELP
from posekit.data.synth import MeshUpAxis, SceneKind, SensorModel, SynthConfig, SynthLayout, TrajectoryKind, synthesize


def _choice(enum) -> click.Choice:
    return click.Choice([member.value for member in enum])


@click.command("synth")
@click.option("--scene", "scene", type=_choice([SceneKind.ROOM, SceneKind.STREET]), default="room",
              show_default=True, help="Procedural scene (ignored with --mesh).")
@click.option("--mesh", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Render this mesh (obj, ply, glb, ...) instead of a procedural scene.")
@click.option("--mesh-up", type=_choice(MeshUpAxis), default=None, help="Up axis of --mesh [default: y for glTF, else z].")
@click.option("--unlit", is_flag=True, help="Show the mesh's textures/colours without shading (scans).")
@click.option("--trajectory", type=_choice(TrajectoryKind), default="handheld", show_default=True)
@click.option("--frames", type=click.IntRange(min=1), default=100, show_default=True, help="Frames per sequence.")
@click.option("--size", type=IMAGE_SIZE, default="240x320", show_default=True, help=f"Image size {IMAGE_SIZE_HELP}.")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True)
@click.option("--fov", type=click.FloatRange(0, 180, min_open=True, max_open=True), default=None,
              help="Horizontal field of view in degrees [default: 57.4, driving 81.6].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sequences", type=click.IntRange(min=1), default=1, show_default=True,
              help="Sequences (different trajectories through the same scene).")
@click.option("--test-sequences", type=click.IntRange(min=0), default=None,
              help="How many of them (the last) form the test split [default: 0 of 1, 1 of 2, else a third].")
@click.option("--format", "dataset_format", type=_choice(SynthLayout), default="7scenes", show_default=True)
@click.option("--depth-holes", is_flag=True, help="Kinect-like depth holes (edges, dark, far).")
@click.option("--depth-noise", is_flag=True, help="Depth noise growing with depth.")
@click.option("--exposure", is_flag=True, help="Exposure and white-balance changes between frames.")
@click.option("--image-noise", is_flag=True, help="Shot and read noise in the colour images.")
@click.option("--realistic", is_flag=True, help="All four sensor effects.")
@click.option("--psf-sigma", type=click.FloatRange(min=0), default=SensorModel.psf_sigma, show_default=True,
              help="Lens blur (Gaussian sigma, pixels) of every colour image; 0 = raw rasteriser output.")
@click.option("--max-range", type=click.FloatRange(min=0, min_open=True), default=SensorModel.max_range,
              show_default=True, help="Depth range limit of --depth-holes, metres.")
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True, help="File-writing threads.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (new or empty).")
def command(scene, mesh, mesh_up, unlit, trajectory, frames, size, fps, fov, seed, sequences, test_sequences,
            dataset_format, depth_holes, depth_noise, exposure, image_noise, realistic, psf_sigma, max_range, workers,
            out_dir) -> None:
    """Render a synthetic RGB-D dataset with exact poses (colour, z-depth, T_world_cam, intrinsics)."""
    height, width = size
    sensor = SensorModel(
        psf_sigma=psf_sigma,
        depth_holes=depth_holes or realistic,
        depth_noise=depth_noise or realistic,
        exposure=exposure or realistic,
        image_noise=image_noise or realistic,
        max_range=max_range,
    )
    config = SynthConfig(
        scene=SceneKind.MESH if mesh is not None else SceneKind(scene),
        trajectory=TrajectoryKind(trajectory),
        frames=frames,
        width=width,
        height=height,
        fps=fps,
        seed=seed,
        format=SynthLayout(dataset_format),
        sequences=sequences,
        test_sequences=test_sequences,
        fov_deg=fov,
        sensor=sensor,
        mesh=mesh,
        mesh_up=MeshUpAxis(mesh_up) if mesh_up else None,
        mesh_lit=not unlit,
        workers=workers,
    )
    result = synthesize(config, out_dir)
    k = result.intrinsics
    click.echo(
        f"wrote {len(result.frame_counts)} sequence(s), {result.frames} frames of {k.width}x{k.height} "
        f"({config.format.value}, {len(result.test_sequences)} test) to {result.out_dir} in {result.seconds:.1f} s "
        f"({result.frames / max(result.seconds, 1e-9):.1f} frames/s)"
    )
