"""Markup built in Python by the tags that write many rows (lists' options, home blocks)."""

from html import escape


def escape_text(value) -> str:
    """A value as the template engine would write it: safe strings as they are, anything
    else escaped. conditional_escape() without its lazy-text wrapper, which costs more than
    the escaping itself when a tag writes a thousand options or a hundred rows."""
    return value.__html__() if hasattr(value, "__html__") else escape(str(value))
