"""pyengine: the container engine daemon (pyengined), its CLI (pyctl) and their libraries."""

__version__ = "0.1.0"
