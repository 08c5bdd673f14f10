#!/usr/bin/env python
"""Thin wrapper: ``python scripts/bench.py [options]`` is ``python -m torchnn.bench [options]``."""

import sys

from torchnn.bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
