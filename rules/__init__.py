"""Business rules as data and pure functions: tolerances, thresholds, dunning plans."""
