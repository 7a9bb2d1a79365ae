"""Training curves from Lightning CSVLogger files."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.errors import FileFormatError, ShapeError
from posekit.viz.canvas import figure_to_array
from posekit.viz.training_curves import (
    lowest_logged_value,
    panel_name,
    plot_training_curves,
    read_lightning_metrics,
    save_training_curves_png,
)

from .viz_fixtures import LIGHTNING_METRICS_CSV


def test_read_sparse_lightning_metrics(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(LIGHTNING_METRICS_CSV)
    curves = read_lightning_metrics(path)
    assert list(curves) == ["train/rot_err_deg", "train_loss_epoch", "train_loss_step",
                            "val/median_translation_m", "val_loss"]
    assert curves["train_loss_step"].steps.tolist() == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]
    assert curves["val_loss"].epochs.tolist() == [0, 1, 2]
    np.testing.assert_allclose(curves["val/median_translation_m"].values, [0.41, 0.33, 0.29])
    figure_path = save_training_curves_png(tmp_path / "curves.png", curves, "posenet")
    assert figure_path.stat().st_size > 10_000


def test_lowest_logged_value_over_every_log_of_a_run(tmp_path):
    for version, text in (("version_0", LIGHTNING_METRICS_CSV), ("version_1", "epoch,step,val/median_translation_m\n3,30,0.27\n")):
        (tmp_path / "logs" / "task" / version).mkdir(parents=True)
        (tmp_path / "logs" / "task" / version / "metrics.csv").write_text(text)
    assert lowest_logged_value(tmp_path, "val/median_translation_m") == pytest.approx(0.27)
    assert lowest_logged_value(tmp_path, "val_loss") == pytest.approx(min(read_lightning_metrics(
        tmp_path / "logs" / "task" / "version_0" / "metrics.csv")["val_loss"].values))
    assert lowest_logged_value(tmp_path, "never_logged") == float("inf")


def test_panels_group_train_and_val_variants():
    assert panel_name("train_loss_step") == panel_name("val_loss") == panel_name("train/loss") == "loss"
    assert panel_name("val/median_translation_m") == "median_translation_m"
    assert panel_name("lr-Adam") == "lr-Adam"


def test_missing_step_column_uses_row_numbers(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss\n0,1.0\n0,\n1,0.5\n")
    curve = read_lightning_metrics(path)["loss"]
    assert curve.steps.tolist() == [0, 2] and curve.values.tolist() == [1.0, 0.5]


@pytest.mark.parametrize("text, line", [("", 1), ("epoch,step,loss\n0,1,abc\n", 2), ("epoch,step,loss\n0,1,2,3\n", 2)])
def test_malformed_files_name_the_line(tmp_path, text, line):
    path = tmp_path / "metrics.csv"
    path.write_text(text)
    with pytest.raises(FileFormatError, match=rf"metrics.csv:{line}"):
        read_lightning_metrics(path)


def test_missing_file_raises(tmp_path):
    with pytest.raises(FileFormatError, match="cannot read"):
        read_lightning_metrics(tmp_path / "nope.csv")


def test_plots_without_values_and_with_many_panels():
    from posekit.viz.training_curves import MetricCurve

    empty = {"loss": MetricCurve("loss", np.zeros(0), np.zeros(0), np.zeros(0))}
    assert figure_to_array(plot_training_curves(empty)).shape[2] == 3
    many = {f"m{i}": MetricCurve(f"m{i}", np.arange(3.0), np.arange(3.0) - 1, np.zeros(3)) for i in range(12)}
    assert figure_to_array(plot_training_curves(many, max_panels=4)).shape[2] == 3
    with pytest.raises(ShapeError):
        plot_training_curves(many, max_panels=0)
