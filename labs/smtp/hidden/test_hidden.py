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
    server.close()
    case.step("a server that answers EHLO with 421 (failed for now): no HELO, QUIT, exit 1")
    busy = ScriptedServer(case, {"EHLO": b"421 4.3.2 mail.socklab.test busy, try again later\r\n"})
    client = run_client(case, subject="Busy server", body=b"Not now.\n")
    busy.serve(client)
    expect_exit(case, client, 1, "after '421' to EHLO")
    busy.wait()
    busy.close()
    words = [c.split(" ")[0].split(":")[0].upper() for c in busy.commands]
    if words != ["EHLO", "QUIT"]:
        case.fail("smtpclient went on after '421' to EHLO",
                  expected="EHLO, then QUIT: only a 5xx reply (the server does not know EHLO) calls for HELO; "
                           "a 4xx one is a failure, for now",
                  saw=f"commands {busy.commands!r}",
                  hint="fall back to HELO only when the reply's first digit is 5")
