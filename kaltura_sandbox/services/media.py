"""Placeholder: implemented by the media engineer."""
