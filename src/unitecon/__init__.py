"""unitecon: what every model call, agent task, customer and feature costs and earns."""

__version__ = "0.1.0"
