"""``python -m posekit`` runs the command-line interface."""

from posekit.cli import main

if __name__ == "__main__":
    main()
