"""Use cases as plain functions: they take a session and plain values, return entities or raise
domain errors, and never commit, send mail or touch request state. The caller owns the transaction."""
