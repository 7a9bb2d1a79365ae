"""Demonstrations run by ``posekit demo``: the full pipeline on a rendered scene (:mod:`.pipeline`) and the
geometry core recovering a known motion of a textured plane (:mod:`.plane`)."""
