"""The error a change to a hire or an import raises when it is not allowed."""


class HireError(Exception):
    """A change to a hire or an import that is not allowed; the message is for the user."""
