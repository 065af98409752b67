"""Bank files in, normalised statements out. Pure: no database, no network."""
