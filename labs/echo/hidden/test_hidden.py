"""Hidden echo cases (not in the student distribution)."""

from echolib import exchange, start_server


def test_tcp_server_survives_bad_clients(case):
    server = start_server(case)
    rude = case.tcp_connect(label="client that resets")
    rude.send(b"half a line without its newl")
    rude.reset()
    greedy = case.tcp_connect(label="client with an over-long line")
    greedy.send(b"z" * 70000 + b"\n", chunk=10000)
    greedy.recv_to_eof(timeout=5, what="anything (the line exceeds the 65536-byte limit)")
    greedy.close()
    polite = case.tcp_connect(label="well-behaved client")
    exchange(case, polite, b"are you still there?")
    polite.close()
    if not server.running():
        case.fail("tcpserver ended after misbehaving clients",
                  expected="tcpserver still serving the next client", saw=f"tcpserver {server.status_text()}")
