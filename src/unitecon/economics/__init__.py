"""economics stage."""
