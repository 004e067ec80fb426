"""Errors a user can act on: printed as one clear message, without a traceback."""


class UserError(Exception):
    """A problem the user can fix: bad input, a missing tool, a corrupt file."""


class ConfigError(UserError, ValueError):
    """The configuration is invalid; the message names the offending key."""
