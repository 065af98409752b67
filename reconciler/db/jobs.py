"""Tables of the jobs slice (scheduler history, leader lock)."""
