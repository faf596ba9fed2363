"""The skeleton generator: markers in, TODOs out, malformed markers named."""
import pytest

from mkskeleton import MarkerError, check_numbers, transform_source

SOLUTION = """int main(void)
{
	int fd;
	/* BLANK 1: Connect with sl_tcp_connect(). */
	fd = connect_somewhere();
	/* SKELETON 1:
	fd = -1;
	SL_TODO(1);
	*/
	/* END 1 */
	/* BLANK 2: Close the socket. */
	close(fd);
	/* END 2 */
	return fd;
}
"""


def test_blank_becomes_todo_with_placeholder():
    out, blanks = transform_source(SOLUTION, "x.c")
    assert blanks == [(1, "Connect with sl_tcp_connect()."), (2, "Close the socket.")]
    assert "connect_somewhere" not in out and "close(fd)" not in out
    assert "\t/* TODO 1: Connect with sl_tcp_connect(). */\n\tfd = -1;\n\tSL_TODO(1);\n" in out
    assert "\t/* TODO 2: Close the socket. */\n\treturn fd;" in out
    assert "BLANK" not in out and "SKELETON" not in out and "END" not in out


@pytest.mark.parametrize("text, message", [
    ("/* BLANK 1: task */\nx;\n", "BLANK 1 has no END 1"),
    ("/* BLANK 1: task */\nx;\n/* END 2 */\n", "END 2 closes BLANK 1"),
    ("/* END 1 */\n", "marker outside a BLANK block"),
    ("/* BLANK 1: t */\n/* BLANK 2: u */\n/* END 2 */\n/* END 1 */\n", "BLANK inside BLANK 1"),
    ("/* BLANK 1: t */\n/* SKELETON 1:\nx;\n", "SKELETON 1 has no closing"),
])
def test_malformed_markers_are_named(text, message):
    with pytest.raises(MarkerError, match=message):
        transform_source(text, "bad.c")


def test_numbers_must_run_in_order():
    check_numbers("lab", [(1, "a"), (2, "b")])
    with pytest.raises(MarkerError, match=r"1..N"):
        check_numbers("lab", [(1, "a"), (3, "b")])
    with pytest.raises(MarkerError):
        check_numbers("lab", [(2, "a"), (1, "b")])
