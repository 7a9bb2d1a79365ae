"""``posekit viz dataset|video`` and ``posekit report`` on real data."""

from __future__ import annotations

import imageio.v3 as iio

from tests.conftest import invoke


def test_viz_dataset_draws_real_kitti_route(kitti_dir, tmp_path):
    out = tmp_path / "route.png"
    result = invoke(*["viz", "dataset", "kitti", str(kitti_dir / "seq06_frames000000-000050"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    image = iio.imread(out)
    assert image.shape[0] > 200 and image.shape[1] > 400 and image.std() > 10


def test_viz_video_has_one_frame_per_image(kitti_dir, tmp_path):
    out = tmp_path / "route.mp4"
    result = invoke(*["viz", "video", "kitti", str(kitti_dir / "seq01_frames000000-000050"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frames = list(iio.imiter(out))
    assert len(frames) == 51


def test_viz_unknown_record_is_a_clear_error(kitti_dir, tmp_path):
    result = invoke(*["viz", "dataset", "kitti", str(kitti_dir / "seq06_frames000000-000050"),
                                      "--record", "nope", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "nope" in result.output


def test_report_of_an_empty_run_folder_notes_what_is_missing(tmp_path):
    out = tmp_path / "report.html"
    result = invoke(*["report", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Nothing to report" in out.read_text() and "Omitted" not in out.read_text()


def test_report_compares_several_runs_in_one_file(tmp_path):
    from tests.viz.viz_fixtures import helix_trajectory, make_run_folder

    runs = [make_run_folder(tmp_path / name, helix_trajectory(20), with_figures=False) for name in ("a", "b")]
    assert invoke("report", *map(str, runs)).exit_code == 2  # several runs: --out is required
    out = tmp_path / "cmp.html"
    result = invoke("report", *map(str, runs), "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "posekit comparison: a, b" in html and "<td>a/posenet</td>" in html and "<td>b/posenet</td>" in html
