"""The Dockerfile language: parser directives, instructions, variable substitution."""
