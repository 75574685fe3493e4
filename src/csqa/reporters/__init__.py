"""Reporters: turn audit results into files and terminal output. They never audit."""
