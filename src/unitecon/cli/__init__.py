"""CLI stage: thin translators from arguments to library calls. Computes no metric."""
