"""``python -m torchnn.bench``."""

from torchnn.bench.cli import main

raise SystemExit(main())
