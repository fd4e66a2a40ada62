"""Message text as HTML: every character escaped, web links made clickable, nothing else.

A message is plain text. Each piece of it goes through `markupsafe.escape`; the
only markup added is an `<a>` around an http or https address (which is itself
escaped, in the link's text and in its href), with rel="noopener noreferrer" so
the page it opens can neither reach back into this one nor learn its address.
Any other scheme (javascript:, data:, vbscript:, file:) stays text. Line breaks
are kept by the stylesheet (white-space: pre-wrap), not by added markup.
"""

import re

from markupsafe import Markup, escape

# An address starts with http:// or https:// (any case) after a non-word character, and runs until a space,
# an angle bracket, a quote or a backtick: characters an address in running text doesn't hold.
_WEB_ADDRESS = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the address it follows.
_CLOSING = ".,;:!?)]}*"
_SCHEMES = ("http://", "https://")


def _trimmed(address: str) -> str:
    """`address` without the punctuation that follows it in the sentence; a closing bracket stays when the
    address opened it (https://en.wikipedia.org/wiki/Respite_(care))."""
    while address and address[-1] in _CLOSING:
        if address[-1] == ")" and address.count("(") >= address.count(")"):
            break
        if address[-1] == "]" and address.count("[") >= address.count("]"):
            break
        address = address[:-1]
    return address


def linkify(text: str | None) -> Markup:
    """`text` as safe HTML, its http and https addresses as links (a Jinja filter: `message.body|linkify`)."""
    if not text:
        return Markup("")
    pieces: list[Markup] = []
    position = 0
    for match in _WEB_ADDRESS.finditer(text):
        address = _trimmed(match.group())
        if address.lower() in _SCHEMES:  # a scheme alone is no address
            continue
        start = match.start()
        pieces.append(escape(text[position:start]))
        pieces.append(Markup('<a href="') + escape(address) + Markup('" rel="noopener noreferrer">'))
        pieces.append(escape(address) + Markup("</a>"))
        position = start + len(address)
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)
