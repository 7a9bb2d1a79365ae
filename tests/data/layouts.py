"""Writers of tiny datasets in the exact published layouts, for the formats without real test data.

Images are a few pixels wide; poses are given as ``T_world_cam`` and written in each format's own
convention (so a test that reads them back checks the conversion).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from posekit.geometry import euler_to_matrix, make_pose, matrix_to_euler, matrix_to_quaternion

WIDTH, HEIGHT = 16, 12


def pose(yaw: float = 0.0, t=(0.0, 0.0, 0.0), roll: float = 0.0, pitch: float = 0.0) -> torch.Tensor:
    """A float64 T_world_cam from Euler angles (radians) and a translation."""
    rotation = euler_to_matrix(torch.tensor([roll, pitch, yaw], dtype=torch.float64))
    return make_pose(rotation, torch.tensor(t, dtype=torch.float64))


def write_rgb(path: Path, seed: int = 0, width: int = WIDTH, height: int = HEIGHT, suffix_format: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path, format=suffix_format)


def write_grey(path: Path, seed: int = 0, width: int = WIDTH, height: int = HEIGHT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8)).save(path)


def write_depth(path: Path, values: np.ndarray) -> None:
    """A 16-bit PNG of raw ``(H, W)`` values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(values, dtype=np.uint16)).save(path)


def matrix_text(matrix: torch.Tensor) -> str:
    return "\n".join(" ".join(f"{v:.12e}" for v in row) for row in matrix.tolist()) + "\n"


# -- 7-Scenes ---------------------------------------------------------------------------------------------


def write_sevenscenes(
    root: Path,
    sequences: dict[int, list[torch.Tensor]],
    train: list[int],
    test: list[int],
    depth_mm: int = 1500,
    camera_matrix: list[list[float]] | None = None,
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> None:
    """``root/seq-XX/frame-XXXXXX.{color.png,depth.png,pose.txt}`` + TrainSplit.txt / TestSplit.txt."""
    for number, poses in sequences.items():
        folder = root / f"seq-{number:02d}"
        for i, T in enumerate(poses):
            stem = folder / f"frame-{i:06d}"
            write_rgb(stem.with_name(stem.name + ".color.png"), seed=100 * number + i, width=size[0], height=size[1])
            depth = np.full((size[1], size[0]), depth_mm, dtype=np.uint16)
            depth[0, 0], depth[0, 1] = 0, 65535
            write_depth(stem.with_name(stem.name + ".depth.png"), depth)
            stem.with_name(stem.name + ".pose.txt").write_text(matrix_text(T))
    (root / "TrainSplit.txt").write_text("".join(f"sequence{n}\n" for n in train))
    (root / "TestSplit.txt").write_text("".join(f"sequence{n}\n" for n in test))
    if camera_matrix is not None:
        (root / "camera-intrinsics.txt").write_text("\n".join(" ".join(str(v) for v in r) for r in camera_matrix) + "\n")


# -- Cambridge Landmarks ------------------------------------------------------------------------------------

CAMBRIDGE_HEADER = "Visual Landmark Dataset V1\nImageFile, Camera Position [X Y Z W P Q R]\n\n"


def cambridge_line(name: str, T_world_cam: torch.Tensor) -> str:
    """``name X Y Z W P Q R``: camera centre and the world-to-camera quaternion (w first)."""
    centre = T_world_cam[:3, 3]
    q_cam_world = matrix_to_quaternion(T_world_cam[:3, :3].T)
    return f"{name} " + " ".join(f"{v:.9f}" for v in [*centre.tolist(), *q_cam_world.tolist()]) + "\n"


# A small Cambridge training split (image name -> T_world_cam) for tests that need any valid scene.
TRAIN_CAMBRIDGE = {
    "seq1/frame00001.png": pose(yaw=0.1, t=(1.0, 2.0, 3.0)),
    "seq1/frame00002.png": pose(yaw=0.2, t=(1.5, 2.0, 3.0)),
}


def write_cambridge(root: Path, train: dict[str, torch.Tensor], test: dict[str, torch.Tensor], focal: float = 1670.0) -> None:
    """dataset_train.txt / dataset_test.txt (3 header lines), seqN/frameNNNNN.png, reconstruction.nvm."""
    for split, entries in (("train", train), ("test", test)):
        text = CAMBRIDGE_HEADER + "".join(cambridge_line(name, T) for name, T in entries.items())
        (root / f"dataset_{split}.txt").write_text(text)
        for i, name in enumerate(entries):
            write_rgb(root / name, seed=i)
    names = [*train, *test]
    lines = ["NVM_V3", "", str(len(names))]
    for name in names:
        jpg = name.replace(".png", ".jpg")
        lines.append(f"{jpg} {focal} 1 0 0 0 0 0 0 0 0")
    lines += ["", "0", ""]
    (root / "reconstruction.nvm").write_text("\n".join(lines))


# -- Apolloscape --------------------------------------------------------------------------------------------


def write_apolloscape_zpark(root: Path, records: dict[str, list[tuple[str, torch.Tensor]]], cameras=("Camera_1", "Camera_2")) -> None:
    """image/RecordNNN/Camera_N/<stamp>_Camera_N.jpg + pose/RecordNNN/Camera_N.txt (roll,pitch,yaw,x,y,z)."""
    for record, frames in records.items():
        for c, camera in enumerate(cameras):
            lines = []
            for i, (stamp, T) in enumerate(frames):
                name = f"{stamp}_{camera}.jpg"
                write_rgb(root / "image" / record / camera / name, seed=i + 10 * c, suffix_format="JPEG")
                euler = matrix_to_euler(T[:3, :3])
                values = [*euler.tolist(), *T[:3, 3].tolist()]
                lines.append(f"{name} " + ",".join(f"{v:.10f}" for v in values))
            path = root / "pose" / record / f"{camera}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")


def write_apolloscape_road(root: Path, records: dict[str, list[tuple[str, torch.Tensor]]], cameras=("Camera 5", "Camera 6")) -> None:
    """ColorImage/Record/Camera 5/<stamp>_Camera_5.jpg + Pose/Record/Camera 5/pose.txt (16 numbers + name)."""
    for record, frames in records.items():
        for c, camera in enumerate(cameras):
            lines = []
            for i, (stamp, T) in enumerate(frames):
                name = f"{stamp}_{camera.replace(' ', '_')}.jpg"
                write_rgb(root / "ColorImage" / record / camera / name, seed=i + 10 * c, suffix_format="JPEG")
                lines.append(" ".join(f"{v:.10f}" for v in T.reshape(-1).tolist()) + f" {name}")
            path = root / "Pose" / record / camera / "pose.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")


# -- KITTI --------------------------------------------------------------------------------------------------

KITTI_FX, KITTI_CX, KITTI_CY, KITTI_BASELINE = 7.0, 7.5, 5.5, 0.54


def kitti_projection(camera: int) -> list[float]:
    """Rectified P_i = K [I | t_i] with a horizontal offset per camera (as the real calib files)."""
    offset = {0: 0.0, 1: -KITTI_BASELINE, 2: 0.06, 3: -0.48}[camera]
    k = [[KITTI_FX, 0.0, KITTI_CX], [0.0, KITTI_FX, KITTI_CY], [0.0, 0.0, 1.0]]
    return [*k[0], KITTI_FX * offset, *k[1], 0.0, *k[2], 0.0]


def write_kitti_sequence(folder: Path, n_frames: int, cameras=(0, 1), labelled: bool = True, times: bool = True) -> None:
    """sequences/XX/{image_N/NNNNNN.png, calib.txt, times.txt}."""
    for camera in cameras:
        for i in range(n_frames):
            write_grey(folder / f"image_{camera}" / f"{i:06d}.png", seed=i + 100 * camera)
    lines = []
    for name in ("P0", "P1", "P2", "P3"):
        numbers = " ".join(f"{v:.12e}" for v in kitti_projection(int(name[1])))
        lines.append(f"{name}: {numbers}" if labelled else numbers)
    tr = " ".join(f"{v:.6e}" for v in [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    lines.append(f"Tr: {tr}" if labelled else tr)
    (folder / "calib.txt").write_text("\n".join(lines) + "\n")
    if times:
        (folder / "times.txt").write_text("".join(f"{0.1 * i:.6e}\n" for i in range(n_frames)))


def kitti_pose_text(poses: list[torch.Tensor]) -> str:
    return "".join(" ".join(f"{v:.9e}" for v in T[:3].reshape(-1).tolist()) + "\n" for T in poses)


# -- TUM RGB-D and the generic folder -----------------------------------------------------------------------


def tum_quaternion_line(stamp: float, T: torch.Tensor) -> str:
    q = matrix_to_quaternion(T[:3, :3]).tolist()  # w x y z
    t = T[:3, 3].tolist()
    return f"{stamp:.6f} {t[0]:.6f} {t[1]:.6f} {t[2]:.6f} {q[1]:.6f} {q[2]:.6f} {q[3]:.6f} {q[0]:.6f}\n"


def write_tum(root: Path, rgb_stamps: list[float], depth_stamps: list[float], gt: list[tuple[float, torch.Tensor]], depth_raw: int = 5000) -> None:
    """rgb.txt, depth.txt, groundtruth.txt (with the published '#' headers), rgb/, depth/."""
    rgb_lines = ["# color images", "# file: 'rgbd_dataset_freiburg1_xyz.bag'", "# timestamp filename"]
    for i, stamp in enumerate(rgb_stamps):
        write_rgb(root / "rgb" / f"{stamp:.6f}.png", seed=i)
        rgb_lines.append(f"{stamp:.6f} rgb/{stamp:.6f}.png")
    depth_lines = ["# depth maps", "# file: 'rgbd_dataset_freiburg1_xyz.bag'", "# timestamp filename"]
    for stamp in depth_stamps:
        write_depth(root / "depth" / f"{stamp:.6f}.png", np.full((HEIGHT, WIDTH), depth_raw))
        depth_lines.append(f"{stamp:.6f} depth/{stamp:.6f}.png")
    (root / "rgb.txt").write_text("\n".join(rgb_lines) + "\n")
    (root / "depth.txt").write_text("\n".join(depth_lines) + "\n")
    gt_text = "# ground truth trajectory\n# file: 'rgbd_dataset_freiburg1_xyz.bag'\n# timestamp tx ty tz qx qy qz qw\n"
    (root / "groundtruth.txt").write_text(gt_text + "".join(tum_quaternion_line(s, T) for s, T in gt))


def intrinsics_yaml(fx=10.0, fy=10.0, cx=7.5, cy=5.5, width=WIDTH, height=HEIGHT, depth_scale=None) -> str:
    text = f"fx: {fx}\nfy: {fy}\ncx: {cx}\ncy: {cy}\nwidth: {width}\nheight: {height}\n"
    return text + (f"depth_scale: {depth_scale}\n" if depth_scale is not None else "")
