"""The Flask review UI and JSON API."""
