"""What the echo cases share: the uppercase rule and the scripted halves of
a line exchange, each failing with text that says what to fix."""

LOWER = b"abcdefghijklmnopqrstuvwxyz"
UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TABLE = bytes.maketrans(LOWER, UPPER)

DEFAULT_PORT = 12000       # the servers' port when none is given (handout)
MAX_LINE = 65536          # the longest line, without its newline (handout)
MAX_DATAGRAM = 65507      # the largest UDP payload (handout)

# Every letter, and the bytes just around a-z and A-Z: only a-z may change.
ALPHABET_LINE = b"`abcdefghijklmnopqrstuvwxyz{|}~ @ABCDEFGHIJKLMNOPQRSTUVWXYZ[ 0123456789"

UTF8_LINE = "grüße aus köln, 你好，世界 and plain ascii".encode()
# Every byte value but the newline, in a shuffled but fixed order.
BINARY_LINE = bytes((i * 97 + 13) % 256 for i in range(256) if (i * 97 + 13) % 256 != 10)


def upper(data):
    """The lab's rule: ASCII a-z to upper case, every other byte unchanged."""
    return data.translate(_TABLE)


def answer_lines(case, conn, lines, chunk=None, pace=0.0):
    """Play the server: receive each request line, send its uppercased reply."""
    for i, line in enumerate(lines, 1):
        got = conn.recv_until(b"\n", timeout=5, what=f"request line {i}")
        if got.how != "delimiter" or got.data != line + b"\n":
            case.expect_bytes(f"request line {i} sent by tcpclient", line + b"\n", got.data,
                              hint="send each input line followed by a single '\\n', "
                                   "then wait for its reply before sending the next")
        conn.send(upper(line) + b"\n", chunk=chunk, pace=pace)


def expect_client_fin(case, conn):
    """After the last reply the client must close (the server sees end of stream)."""
    rest = conn.recv_to_eof(timeout=5, what="what tcpclient sent after the last reply")
    if rest.how == "timeout":
        case.fail("tcpclient did not close the connection after its input ended",
                  expected="end of stream (FIN) once stdin is exhausted", saw="the connection stayed open",
                  hint="at end of input, close() the socket and exit")
    if rest.data:
        case.expect_bytes("data after the last request", b"", rest.data)
    conn.close()


def client_session(case, lines, chunk=None, pace=0.0, stdin=None, host="127.0.0.1"):
    """Run tcpclient over LINES (typed as STDIN, by default each line and its
    newline) against a scripted server on HOST; return the client."""
    listener = case.tcp_listener(host=host)
    if stdin is None:
        stdin = b"".join(l + b"\n" for l in lines)
    client = case.start("tcpclient", host, case.port, stdin=stdin)
    conn = case.accept_client(listener, client)
    answer_lines(case, conn, lines, chunk, pace)
    expect_client_fin(case, conn)
    case.wait_exit(client)
    return client


def expect_output(case, client, lines):
    """tcpclient/udpclient must print exactly one uppercased reply per line."""
    expected = b"".join(upper(l) + b"\n" for l in lines)
    case.expect_bytes(f"{client.name}'s standard output", expected, client.stdout.bytes(),
                      hint="print each reply followed by '\\n' on stdout, and nothing else "
                           "(logs go to stderr)")
    if client.returncode != 0:
        case.fail(f"{client.name} {client.status_text()} after a successful session",
                  expected="exit status 0", saw=client.status_text())


def start_server(case, binary="tcpserver", port=None, proto="tcp"):
    """Start the student's server on PORT and wait until it is listening."""
    port = case.port if port is None else port
    server = case.start(binary, port)
    case.wait_bound(server, port, proto)
    return server


def exchange(case, conn, line, chunk=None, pace=0.0, what="reply"):
    """Send LINE + newline, expect its uppercased reply line."""
    conn.send(line + b"\n", chunk=chunk, pace=pace)
    got = conn.recv_until(b"\n", timeout=5, what=what)
    if got.data != upper(line) + b"\n":
        hint = None
        if got.how in ("eof", "reset") and len(got.data) < len(line):
            hint = ("the server replied to part of the line and closed: read until the newline, "
                    "one recv() is not one message")
        elif got.how == "timeout":
            hint = "the server must reply as soon as it has read a whole line"
        case.expect_bytes(f"the server's {what}", upper(line) + b"\n", got.data, hint=hint)


def expect_log(case, prog, words, timeout=3.0, what=None):
    """PROG's standard error must come to hold a line with each of WORDS
    (in any order, with any time and level around them)."""
    def has(err):
        return any(all(w in line for w in words) for line in err.splitlines())
    if not prog.stderr.wait_for(has, timeout):
        case.fail(f"{prog.name} did not log {what or ' '.join(w.decode() for w in words)}",
                  expected="a log line on stderr with " + ", ".join(repr(w.decode()) for w in words),
                  saw=prog.stderr.tail(8) or "nothing on stderr",
                  hint="the handout gives the words of each log line: the address and port come "
                       "from accept() or recvfrom(), printed with sl_sockaddr_str()")


def expect_no_error_logged(case, prog, why):
    """PROG must not have logged an ERROR line: nothing failed in this session."""
    errors = [line for line in prog.stderr.bytes().splitlines() if b"ERROR" in line]
    if errors:
        case.fail(f"{prog.name} logged an error in a session where nothing failed",
                  expected="no ERROR line on stderr", saw=errors[0].decode(errors="replace"), hint=why)
