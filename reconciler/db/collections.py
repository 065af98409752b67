"""Tables of the collections slice."""
