"""Evaluating trained models and baselines on held-out frames, written into a run folder alike.

- :mod:`.absolute`: PoseNet and the retrieval baseline (absolute poses).
- :mod:`.relative`: relative-pose networks and the classical baselines on held-out pairs.
- :mod:`.depth`: depth networks against sensor depth.
- :mod:`.results`: the one writer of ``RUN_DIR/eval/<method>.{json,csv,tum,gt.tum}``.
- :mod:`.summary`: the summary schema and the recall thresholds.

Submodules are imported on use (nothing heavy is imported with the package).
"""
