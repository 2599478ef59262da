"""The read API's response models are the analysis core's answers (`unitecon.analysis.answers`):
the CLI's `--json` and the API serialize the same objects."""

from unitecon.analysis.answers import *  # noqa: F403
