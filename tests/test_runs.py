"""The run-folder layout: every file a run writes is documented (posekit.runs)."""

from __future__ import annotations

from posekit.runs import undocumented_files


def test_undocumented_files_are_found(tmp_path):
    for name in ("config.yaml", "model.safetensors", "checkpoints/last.ckpt", "ddp/rank0.sha256",
                 "eval/posenet.gt.tum", "eval/posenet/seq-01.tum", "eval/posenet/seq-01.aligned-se3.tum", "logs/posenet/version_0/metrics.csv", "logs/tensorboard/version_0/hparams.yaml",
                 "figures/a.png", "report.html", "checkpoints/epoch=3.ckpt", "eval/deep/er/x.tum", "stray.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert undocumented_files(tmp_path) == ["checkpoints/epoch=3.ckpt", "eval/deep/er/x.tum", "stray.txt"]
