"""Student bytes made safe for every report.

A student's program decides what its output, its build log and its
datagrams hold, and all of it reaches the terminal table, results.json,
junit.xml, Gradescope's results.json and the HTML pages.  Raw control
characters there clear a TA's screen, set a window title, write the
clipboard (OSC 52), reorder text (bidi overrides) or make junit.xml
ill-formed, so a CI system rejects the whole file.  visible() turns each of
them into an escape a reader can see (\\x1b, \\u202e); the other functions
add what one format needs on top of it.  Nothing is deleted silently."""

import html
import re
from xml.sax.saxutils import escape, quoteattr

# C0 controls but tab and newline, DEL, C1 controls (U+0080-U+009F), the bidi
# embeddings, overrides and isolates, the marks that flip direction, the
# line and paragraph separators, lone surrogates (undecodable input), and
# the two non-characters XML forbids.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                    "\u2066-\u2069\ud800-\udfff\ufeff\ufffe\uffff]")
PROGRAM_PREFIX = "│ "   # marks a line as the program's own output, never the grader's


def _escape_one(match):
    c = ord(match.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text):
    """TEXT with every unsafe character shown as an escape (for the terminal and JSON)."""
    return UNSAFE.sub(_escape_one, text)


def decode(data):
    """Bytes a program wrote, as safe text: invalid UTF-8 shows as \\xHH."""
    return visible(data.decode("utf-8", "backslashreplace"))


def quoted(text, indent="    "):
    """TEXT (a program's output) as a quoted block: every line prefixed, so that
    a line such as 'score: 100/100' cannot pass for the grader's own."""
    return "\n".join(indent + PROGRAM_PREFIX + line for line in visible(text).split("\n"))


def xml_text(text):
    return escape(visible(text))


def xml_attr(text):
    return quoteattr(visible(text))


def html_text(text):
    return html.escape(visible(str(text)), quote=True)


def cleaned(value):
    """A copy of VALUE (results: dicts, lists, strings) with every string visible()."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {cleaned(k): cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cleaned(v) for v in value]
    return value
