"""AUTH LOGIN and AUTH PLAIN against aiosmtpd (over plaintext here: the TLS
cases repeat it over STARTTLS), with the right and a wrong password."""

from maillib import (PASSWORD, USER, MailServer, auth_args, expect_delivery, expect_exit,
                     expect_no_secret_in_log, expect_quit, run_client)

WRONG = "not-the-password-81"


def _auth_case(case, mech):
    server = MailServer(case, users={USER: PASSWORD}, auth_require_tls=False)
    client = run_client(case, *auth_args(case, mech), subject=f"AUTH {mech.upper()}")
    got = expect_delivery(case, server, client,
                          hint=f"after EHLO: AUTH {mech.upper()}, the credentials in base64, then 235")
    auth = server.seen("AUTH")
    if not auth or auth[0]["mechanism"] != mech.upper() or not got["authenticated"]:
        case.fail(f"smtpclient did not log in with AUTH {mech.upper()}",
                  expected=f"AUTH {mech.upper()} accepted with 235 before MAIL FROM",
                  saw=f"AUTH steps: {[(a['mechanism'], a['ok']) for a in auth]}")
    expect_exit(case, client, 0, "after the server accepted the mail")
    expect_quit(case, server, client)
    expect_no_secret_in_log(case, client)

    case.step(f"the same with a wrong password")
    wrong = run_client(case, *auth_args(case, mech, password=WRONG), subject="wrong")
    expect_exit(case, wrong, 1, "after the server refused the password (535)")
    if len(server.seen("message")) != 1:
        case.fail("smtpclient sent the mail although the server refused the password",
                  expected="535, then QUIT and exit status 1", saw="a second message")
    if b"535" not in wrong.stderr.bytes():
        case.fail("smtpclient's error does not show the server's refusal",
                  expected="an ERROR line with the reply '535 ...'", saw=wrong.stderr.tail(4))
    expect_no_secret_in_log(case, wrong, password=WRONG)


def test_smtp_auth_login(case):
    _auth_case(case, "login")


def test_smtp_auth_plain(case):
    _auth_case(case, "plain")
