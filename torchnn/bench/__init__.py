"""torchnn.bench: one training step of torchnn against torch.nn and numpy, side by side.

Run ``python -m torchnn.bench --help`` (or ``torchnn bench``). ``main(argv)`` is the entry
point; ``run(argv)`` returns the report as a dict.
"""

from torchnn.bench.cli import main, run

__all__ = ["main", "run"]
