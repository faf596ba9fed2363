"""Hidden filexfer cases (not in the student distribution)."""

from fxlib import Client, noise, show_fields, start_server, visible_names

# More than the lab's file size limit ([limits] fsize = 80M): a deterministic "disk full".
TOO_BIG = 90 << 20


def test_upload_over_size_limit(case):
    server = start_server(case)
    c = Client(case)
    c.login()
    chunk = noise(1 << 20, 60)
    c.send("PUT", "huge.bin", str(TOO_BIG))
    c.expect("PUT 'huge.bin'", "OK")
    c.conn.send(chunk * (TOO_BIG // len(chunk)), note=f"{TOO_BIG} bytes")
    c.send("HASH", "0" * 64)
    got = c.recv_frame("the answer to an upload over the file size limit", timeout=15)
    if got[0] != b"ERR":
        case.fail("fileserver did not refuse an upload it could not write",
                  expected="ERR io (the write failed with EFBIG)", saw=f"the frame {show_fields(got)}")
    if not server.running():
        case.fail("fileserver ended on a write over the file size limit",
                  expected="fileserver still running, only that upload refused",
                  saw=f"fileserver {server.status_text()}",
                  hint="ignore SIGXFSZ: write() then fails with EFBIG, and only that upload fails")
    if visible_names(case):
        case.fail("the failed upload left a file a client could see",
                  expected="no file in the root (the part file removed)", saw=", ".join(visible_names(case)))
    c.list()
    c.quit()
