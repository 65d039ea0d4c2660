"""One blueprint per area of the contract (plus the optional lab)."""
