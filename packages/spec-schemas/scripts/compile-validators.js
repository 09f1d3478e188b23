// Replaced by the validator compiler.
