"""The foundation every other package stands on: errors, the configuration, atomic files,
provenance, the one rule for "two executions agree", and statistics over seeds."""
