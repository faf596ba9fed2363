"""Hidden heartbeat cases (not in the student distribution)."""


def test_hb_client_exits_when_server_closes(case):
    listener = case.tcp_listener()
    client = case.start("hbclient", "127.0.0.1", case.port)
    conn = case.accept_client(listener, client)
    conn.send(b"HB 1\n")
    conn.recv_until(b"\n", timeout=2, what="the reply to HB 1")
    conn.close()
    rc = client.wait_exit(2)
    if rc is None:
        case.fail("hbclient kept running after the server closed the connection",
                  expected="exit status 1 within 2 s, with an error on stderr",
                  saw="still running (waiting for input?)",
                  hint="when the reader thread sees the server close, wake the main thread "
                       "(poll stdin together with a pipe) and exit")
    case.step(f"hbclient {client.status_text()}")
    if rc != 1:
        case.fail("hbclient's exit status does not say that the server went away",
                  expected="exit status 1", saw=client.status_text())
