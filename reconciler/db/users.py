"""Tables of the users slice."""
