"""``localize --sequence``: consecutive real 7-Scenes queries in the small real map, fused with map-depth PnP steps."""

from __future__ import annotations

import json

import pytest
import torch

from posekit.errors import FileFormatError

from posekit.localization import Localizer, LocalizerConfig, Refinement, localize_frames
from posekit.localization.sequence import fuse_localized_run
from posekit.metrics.trajectory_files import read_tum
from tests.conftest import invoke, require_real_data
from tests.mapping.small_map import sevenscenes_frames

QUERIES = "9-15"  # consecutive, keyframes 12 among them


@pytest.fixture(scope="module")
def data():
    return require_real_data("7scenes_redkitchen_seq01")


def test_fused_sequence_is_not_worse_than_unfused(small_map, data, tmp_path):
    frames = sevenscenes_frames(data, QUERIES)
    localize_frames(Localizer(small_map, LocalizerConfig(refine=Refinement.BOTH, top_k=4)), frames, tmp_path)
    fused = fuse_localized_run(small_map, frames, tmp_path)
    assert fused["relative_pairs"] >= 5, "most consecutive pairs get a relative pose"
    # Measured: unfused 2.8 mm / 0.07 deg, fused 4.7 mm / 0.15 deg (the absolute sigma, 3 cm, is ten times these
    # frames' error, so the PnP steps pull a little); bound: fused median within 5 mm / 0.25 deg of the unfused one.
    assert fused["median_t_m"] <= fused["unfused"]["median_t_m"] + 0.005
    assert fused["median_r_deg"] <= fused["unfused"]["median_r_deg"] + 0.25
    traj = read_tum(tmp_path / "fused_frames.tum")
    assert traj.poses.shape == (7, 4, 4) and bool(torch.isfinite(traj.poses).all())
    assert (tmp_path / "poses_frames.tum").is_file(), "the unfused trajectory stays beside the fused one"
    assert json.loads((tmp_path / "fused_summary.json").read_text())["frames"] == 7


def test_a_run_folder_that_does_not_match_the_frames_is_a_file_error(small_map, data, tmp_path):
    frames = sevenscenes_frames(data, "9-10")
    with pytest.raises(FileFormatError, match="poses_frames.tum"):
        fuse_localized_run(small_map, frames, tmp_path)  # no run folder
    (tmp_path / "poses_frames.tum").write_text("9 0 0 0 0 0 0 1\n")
    with pytest.raises(FileFormatError, match="1 poses for 2 frames"):
        fuse_localized_run(small_map, frames, tmp_path)


def test_localize_cli_sequence_option(small_map, data, tmp_path):
    out = invoke("localize", "--map", str(small_map.folder), "--dataset", "frames", "--data", str(data),
                 "--test-frames", "20-22", "--refine", "pnp", "--top-k", "4", "--sequence", "--out", str(tmp_path / "run"))
    assert out.exit_code == 0, out.output
    assert "fused (" in out.output
    assert (tmp_path / "run" / "fused_frames.tum").is_file()
