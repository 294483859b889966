"""cruce: an intelligence workbench for trafficking across the US–Mexico border."""

__version__ = "0.1.0"
