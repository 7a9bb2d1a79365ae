"""Evaluating trained models and baselines on held-out frames, written into a run folder alike.

- :mod:`.absolute`: PoseNet and the retrieval baseline (absolute poses).
- :mod:`.relative`: relative-pose networks and the classical baselines on held-out pairs.
- :mod:`.depth`: depth networks against sensor depth.
- :mod:`.results`: the one writer of ``RUN_DIR/eval/<method>.{json,csv}`` and ``RUN_DIR/eval/<method>/<record>.tum``
  (one trajectory per record, as estimated), with the trivial baselines beside every result.
- :mod:`.segments`: contiguous held-out segments (pairs and chains never cross records or held-out blocks).
- :mod:`.predict`: poses from images alone (``posekit predict``).
- :mod:`.summary`: the summary schema and the recall thresholds.

Submodules are imported on use (nothing heavy is imported with the package).
"""
