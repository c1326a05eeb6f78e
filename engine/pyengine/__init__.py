"""pyengine: the container engine daemon (pyengined), its CLI (pyctl) and their libraries."""
