"""The analysis core: one `Analysis` per question, asked by every surface (`core.py`), and
its answers (`answers.py`)."""

from unitecon.analysis.core import Analysis

__all__ = ["Analysis"]
