"""Tests of posekit.metrics (a package so that test module names stay unique)."""
