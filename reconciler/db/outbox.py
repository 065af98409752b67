"""Tables of the outbox slice."""
