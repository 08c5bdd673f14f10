"""Warnings from Lightning's and jsonargparse's own internals are not this package's to fix."""

import pytest

_INTERNAL = (
    "ignore:.*isinstance\\(treespec, LeafSpec\\)` is deprecated.*",
    "ignore:(?s).*instantiate_classes`` was deprecated.*",
    "ignore:(?s).*skip_none parameter was deprecated.*",
    "ignore:(?s).*add_instantiator`` was deprecated.*",
    "ignore:.*LightningCLI's args parameter is intended.*",
    "ignore:(?s).*JsonargparseDeprecationWarning per type.*",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/training/" in str(item.fspath).replace("\\", "/"):
            for spec in _INTERNAL:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """The configs set num_threads: 1 for the whole process; give other tests theirs back."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
