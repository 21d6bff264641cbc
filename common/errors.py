"""The one exception type that reaches a user as a one-line message instead of a traceback."""


class UserError(ValueError):
    """Bad input the user can fix: the message says what, where, what was expected, and how.

    The command line prints it as ``error: <message>`` and exits with status 2; ``--debug``
    shows the traceback as well.
    """

    exit_code = 2


def require(condition, message):
    """Raise :class:`UserError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise UserError(message)
