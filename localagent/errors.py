"""The project's own error type: what the CLI prints as one line and exit code 1."""


class LocalAgentError(Exception):
    """A user-facing failure: bad input, missing model, unreadable file.

    The message is one line that says what went wrong and, where possible, what to do.
    The CLI prints it to stderr and exits with code 1 (no traceback unless --debug).
    """

    exit_code = 1
