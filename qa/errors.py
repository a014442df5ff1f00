"""One exception type for every problem a user can cause: the CLI prints it as one line."""


class QAError(Exception):
    """Bad input or a broken environment, with a message fit for a single line."""

    exit_code = 2
