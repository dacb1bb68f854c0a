"""Publish: the season-scoped JSON files for the website and the admin views (`v1/...`)."""
