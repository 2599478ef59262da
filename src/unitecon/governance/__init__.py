"""governance stage."""
