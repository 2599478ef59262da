"""attribution stage."""
