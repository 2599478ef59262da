"""One full default demo run per session, shared by the demo tests."""

from __future__ import annotations

import pytest
from demo_helpers import Demo, load

from unitecon.demo import generate


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return load(generate(tmp_path_factory.mktemp("demo")))
