"""Building images from Dockerfiles (docs/ENGINE.md "Builds")."""
