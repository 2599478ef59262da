"""CLI stage: thin translators from arguments to library calls. Computes no metric."""

import os

# The command line uses no Pydantic plugin; an installed one (Logfire's) would otherwise be
# imported when the first model class is made: 0.2 s of every command. A user's own
# setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _lean() -> None:
    from unitecon import engine

    engine.arrow_without_pandas()
    # genai-prices imports its HTTP client at its own import, for a price update a command
    # never makes (`pricing.catalog` reads the bundled snapshot): 40 ms of every command
    engine.lazy_module("httpx2")


_lean()
