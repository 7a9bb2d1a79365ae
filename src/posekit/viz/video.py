"""Video of a record: its camera frames with the route drawn so far as an inset (the article's ``make_video``).

Frames are streamed (an iterator that loads images one by one is fine); the positions are needed up front
to lay out the inset. The inset background (the whole route, faint) is rendered once per record with
matplotlib; each frame only draws the route up to its position with PIL, so a video costs little more
than encoding. Encoding is H.264 in an mp4 by the ffmpeg binary that the ``imageio-ffmpeg`` wheel ships
(no system ffmpeg, no network). The file is written atomically.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import torch
from PIL import Image, ImageDraw

from posekit.errors import ShapeError
from posekit.fileio import atomic_write_bytes
from posekit.viz.canvas import figure_to_array, new_figure
from posekit.viz.ground import DisplayUpAxis, as_positions, resolve_up_axis, to_display_frame
from posekit.viz.images import to_rgb_uint8
from posekit.viz.style import GROUND_TRUTH_COLOUR, series_colour

DEFAULT_FPS = 10
DEFAULT_MAX_WIDTH = 640
INSET_FRACTION = 0.34  # inset width as a fraction of the frame width
_INSET_MARGIN = 6  # pixels between the inset and the frame border
_TRAVELLED_COLOUR = series_colour(0)
_CURRENT_COLOUR = (230, 30, 30)


@dataclass
class _Inset:
    """The route of one record drawn faint on a small panel, and each position's pixel on that panel."""

    background: Image.Image
    pixels: np.ndarray  # (N, 2) float (u, v) panel pixels of the record's positions


def _render_inset(top_view: np.ndarray, width: int, height: int) -> _Inset:
    dpi = 100
    figure = new_figure(width / dpi, height / dpi, dpi=dpi)
    figure.set_layout_engine(None)
    figure.patch.set_facecolor("white")
    ax = figure.add_axes((0.04, 0.04, 0.92, 0.92))
    ax.plot(top_view[:, 0], top_view[:, 1], color=GROUND_TRUTH_COLOUR, alpha=0.35, linewidth=1.5)
    ax.scatter(top_view[:1, 0], top_view[:1, 1], color=GROUND_TRUTH_COLOUR, s=10)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()
    pixels_rgb = figure_to_array(figure)  # draws, so the data transform below is final
    display = ax.transData.transform(top_view)
    pixels = np.stack([display[:, 0], pixels_rgb.shape[0] - display[:, 1]], axis=1)
    return _Inset(Image.fromarray(pixels_rgb), pixels)


def _even_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    scale = min(1.0, max_width / width)
    new_w, new_h = max(2, round(width * scale)), max(2, round(height * scale))
    return new_w - new_w % 2, new_h - new_h % 2


def _draw_progress(inset: _Inset, index: int) -> Image.Image:
    panel = inset.background.copy()
    draw = ImageDraw.Draw(panel)
    travelled = [tuple(p) for p in inset.pixels[: index + 1]]
    if len(travelled) >= 2:
        draw.line(travelled, fill=_TRAVELLED_COLOUR, width=2, joint="curve")
    u, v = inset.pixels[index]
    draw.ellipse((u - 4, v - 4, u + 4, v + 4), fill=_CURRENT_COLOUR, outline=(255, 255, 255))
    draw.rectangle((0, 0, panel.width - 1, panel.height - 1), outline=(80, 80, 80))
    return panel


def _record_runs(record_ids: Sequence[str] | None, count: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of consecutive frames of one record (the whole video if no ids)."""
    if record_ids is None:
        return [(0, count)]
    if len(record_ids) != count:
        raise ShapeError(f"record_ids: expected {count} ids (one per position), got {len(record_ids)}")
    runs, start = [], 0
    for i in range(1, count + 1):
        if i == count or record_ids[i] != record_ids[start]:
            runs.append((start, i))
            start = i
    return runs


def write_route_video(
    path: str | Path,
    frames: Iterable[torch.Tensor | np.ndarray],
    positions: torch.Tensor | np.ndarray,
    fps: float = DEFAULT_FPS,
    up: DisplayUpAxis = DisplayUpAxis.AUTO,
    labels: Sequence[str] | None = None,
    record_ids: Sequence[str] | None = None,
    max_width: int = DEFAULT_MAX_WIDTH,
) -> Path:
    """Write an mp4 of ``frames`` with the top view of the route travelled so far in the top-right corner.

    Args:
        path: output ``.mp4`` file (written atomically; parent folders are created).
        frames: ``N`` images, ``(C, H, W)`` tensors or ``(H, W[, C])`` arrays (any iterable, read once). The
            video takes the first frame's size (scaled down to ``max_width``); other sizes are resized to it.
        positions: ``(N, 3)`` world camera centres, one per frame.
        fps: frames per second.
        up: the world's up axis for the top view.
        labels: optional text per frame (e.g. the image file name), drawn in the bottom-left corner.
        record_ids: optional record id per frame; each run of one record gets an inset of its own route.
        max_width: largest video width in pixels.

    Returns:
        ``path``.

    Raises:
        ShapeError: no frames, or the number of frames, positions, labels and record ids differ.
    """
    world = as_positions(positions)
    count = len(world)
    if count == 0:
        raise ShapeError("positions: expected at least one frame for a video, got (0, 3)")
    if labels is not None and len(labels) != count:
        raise ShapeError(f"labels: expected {count} labels (one per position), got {len(labels)}")
    runs = _record_runs(record_ids, count)
    top_view = to_display_frame(world, resolve_up_axis(world, up))[0][:, :2]
    run_of_frame = np.zeros(count, dtype=np.int64)
    for number, (start, stop) in enumerate(runs):
        run_of_frame[start:stop] = number

    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="posekit-video-") as scratch:
        scratch_file = Path(scratch) / "video.mp4"
        written = _encode(scratch_file, frames, top_view, runs, run_of_frame, fps, labels, max_width)
        if written != count:
            raise ShapeError(f"frames: expected {count} frames (one per position), got {written}")
        atomic_write_bytes(path, scratch_file.read_bytes())
    return path


def _encode(
    out_file: Path,
    frames: Iterable[torch.Tensor | np.ndarray],
    top_view: np.ndarray,
    runs: list[tuple[int, int]],
    run_of_frame: np.ndarray,
    fps: float,
    labels: Sequence[str] | None,
    max_width: int,
) -> int:
    """Compose and encode the frames; returns how many there were (stops at one too many)."""
    count = len(top_view)
    writer = None
    size = None
    insets: dict[int, _Inset] = {}
    written = 0
    try:
        for index, frame in enumerate(frames):
            if index >= count:
                return index + 1
            image = Image.fromarray(to_rgb_uint8(frame, f"frame {index}"))
            if size is None:
                size = _even_size(image.width, image.height, max_width)
                writer = imageio_ffmpeg.write_frames(
                    str(out_file), size, fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                    macro_block_size=2, ffmpeg_log_level="error", quality=7,
                )
                writer.send(None)
            if image.size != size:
                image = image.resize(size, Image.BILINEAR)
            run = int(run_of_frame[index])
            if run not in insets:
                insets.clear()  # runs are consecutive: an earlier record's inset is not needed again
                start, stop = runs[run]
                inset_w = max(32, int(size[0] * INSET_FRACTION))
                insets[run] = _render_inset(top_view[start:stop], inset_w, max(32, int(inset_w * 0.75)))
            inset = insets[run]
            panel = _draw_progress(inset, index - runs[run][0])
            image.paste(panel, (size[0] - panel.width - _INSET_MARGIN, _INSET_MARGIN))
            if labels is not None:
                _draw_label(image, labels[index])
            writer.send(np.ascontiguousarray(np.asarray(image)).tobytes())
            written = index + 1
    finally:
        if writer is not None:
            writer.close()
    return written


def _draw_label(image: Image.Image, text: str) -> None:
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), text)
    x, y = _INSET_MARGIN, image.height - (bottom - top) - 2 * _INSET_MARGIN
    draw.rectangle((x - 3, y - 3, x + right - left + 3, y + bottom - top + 3), fill=(0, 0, 0))
    draw.text((x - left, y - top), text, fill=(255, 255, 255))
