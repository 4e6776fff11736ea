"""The one error type of the quantizer: a user-facing reason, printed as one line (exit 1)."""


class QuantizeError(Exception):
    """Bad input or an impossible conversion; the message is shown to the user as is."""
