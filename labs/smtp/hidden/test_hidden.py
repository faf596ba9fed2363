"""Hidden smtp cases (not in the student distribution)."""

from maillib import ScriptedServer, expect_exit, run_client


def test_smtp_helo_fallback(case):
    server = ScriptedServer(case, {"EHLO": b"502 5.5.1 EHLO not implemented\r\n"})
    client = run_client(case, subject="Old server", body=b"An old server.\n")
    server.serve(client)
    server.wait()
    words = [c.split(" ")[0].split(":")[0].upper() for c in server.commands]
    if words[:2] != ["EHLO", "HELO"] or server.message is None:
        case.fail("smtpclient did not fall back to HELO after '502' to EHLO",
                  expected="EHLO, then HELO, MAIL FROM, RCPT TO, DATA, QUIT",
                  saw=f"commands {server.commands!r}",
                  hint="a 5xx reply to EHLO means an old server: say HELO, and use no extensions")
    expect_exit(case, client, 0, "after the server accepted the mail")
