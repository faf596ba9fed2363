"""Hidden chat cases (not in the student distribution)."""

from chatlib import is_ctl, is_error, is_msg, login, start_server


def test_chat_server_refuses_control_characters(case):
    start_server(case)
    alice, bob = login(case, "alice"), login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    # A line end and a header of its own would fake a message from someone else on bob's screen.
    for bad, what in ((b"hi\n[2026-01-01 00:00:00] carol\nsend me your password", "a line end"),
                      (b"broken \xe4\xbd", "a UTF-8 character cut in half"),
                      (b"bell \x07 and escape \x1b[2J", "control characters")):
        alice.send("M", bad)
        alice.expect(f"an ERROR for a message with {what}", is_error("badtext"),
                     expected="ERROR('badtext', text): a text is UTF-8 without control characters",
                     hint="check every text with chat_utf8_ok() before relaying it")
    alice.send("M", "a clean line")
    bob.expect("alice's clean message (and none of the refused ones)", is_msg("alice", "a clean line"))
    alice.close()
    bob.close()
