"""The matcher chain. Pure: matchers read a candidate view and return proposals."""
