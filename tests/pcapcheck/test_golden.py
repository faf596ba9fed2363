"""Golden captures: pcapcheck analyze --json against each NAME.expected.json.

Every pcaps/**/NAME.pcap that has a NAME.expected.json beside it is
analysed and compared with it: exactly for the fields the expected file
names (a nested object is compared as a subset, lists element by element
and with the same length; numbers with a tolerance of 1e-9). Expected
files leave out what may vary (file paths, times, ephemeral ports). A
capture with a NAME.options beside it is analysed with those extra
arguments (one per line, kept exactly: "HB " keeps its space), e.g. the
heartbeat matcher of its lab.

Also here: the synthetic captures regenerate byte for byte; broken inputs
get a clear message, never a crash; and, where tshark is installed, the
TCP stream count, each stream's tcp.completeness and the UDP conversation
count agree with tshark's.
"""

import filecmp
import glob
import json
import math
import os
import re

import pytest

from pcapcheck_util import PCAPS, SYNTHETIC, analyze_json, run

GOLDEN = sorted(p for p in glob.glob(os.path.join(PCAPS, "**", "*.pcap"), recursive=True)
                if os.path.exists(p[:-len(".pcap")] + ".expected.json"))
TSHARK = "/usr/bin/tshark"


def golden_id(path):
    return os.path.relpath(path, PCAPS)


def golden_options(pcap):
    """The extra analyze arguments in NAME.options beside PCAP, one per line; [] if none."""
    path = pcap[:-len(".pcap")] + ".options"
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line[:-1] if line.endswith("\n") else line for line in f]


def analyze_with(pcapcheck, pcap, options):
    """pcapcheck analyze PCAP --json OPTIONS, which must succeed; the parsed verdict."""
    done = run([pcapcheck, "analyze", pcap, "--json", *options])
    assert done.returncode == 0, (f"pcapcheck analyze {pcap} {options} exited "
                                  f"{done.returncode}: {done.stderr.decode(errors='replace')}")
    return json.loads(done.stdout)


def without_messages(verdict):
    """VERDICT without the fields the heartbeat options add."""
    for conn in verdict["tcp"]:
        conn.pop("heartbeats", None)
        conn.pop("messages", None)
    return verdict


def differences(expected, got, where="$"):
    """Every place where GOT does not show what EXPECTED asks for, as text."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {got!r}"]
        found = []
        for key, value in expected.items():
            if key not in got:
                found.append(f"{where}.{key}: missing")
            else:
                found += differences(value, got[key], f"{where}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {json.dumps(got)[:300]}"]
        found = []
        for i, (e, g) in enumerate(zip(expected, got)):
            found += differences(e, g, f"{where}[{i}]")
        return found
    if isinstance(expected, bool) or isinstance(got, bool) or expected is None or got is None:
        return [] if expected is got else [f"{where}: expected {expected!r}, got {got!r}"]
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        if math.isclose(expected, got, rel_tol=0, abs_tol=1e-9):
            return []
        return [f"{where}: expected {expected!r}, got {got!r}"]
    return [] if expected == got else [f"{where}: expected {expected!r}, got {got!r}"]


def test_there_are_golden_captures():
    names = {os.path.basename(p) for p in GOLDEN}
    assert {"fin_four_way.pcap", "rejected.pcap", "udp_request_response.pcap"} <= names


@pytest.mark.parametrize("pcap", GOLDEN, ids=golden_id)
def test_golden(pcapcheck, pcap):
    with open(pcap[:-len(".pcap")] + ".expected.json", encoding="utf-8") as f:
        expected = json.load(f)
    verdict = analyze_with(pcapcheck, pcap, golden_options(pcap))
    found = differences(expected, verdict)
    assert not found, f"{golden_id(pcap)}:\n  " + "\n  ".join(found)


HB_MATCHER = ["--hb-request", "HB ", "--hb-reply", "HBACK "]


@pytest.mark.parametrize("pcap", GOLDEN, ids=golden_id)
def test_heartbeat_options_change_nothing_else(pcapcheck, pcap):
    """Without options a verdict has no heartbeat fields; with them (the capture's own,
    else the heartbeat lab's), every other field is exactly as without."""
    plain = analyze_json(pcapcheck, pcap)
    assert not any("heartbeats" in c or "messages" in c for c in plain["tcp"])
    with_hb = analyze_with(pcapcheck, pcap, golden_options(pcap) or HB_MATCHER)
    assert all("heartbeats" in c and "messages" in c for c in with_hb["tcp"])
    assert without_messages(with_hb) == plain


def test_options_files_are_read(pcapcheck):
    """The heartbeat goldens need their options: without them, their expectation fails."""
    pcap = os.path.join(SYNTHETIC, "hb_clean.pcap")
    assert golden_options(pcap) == ["--hb-request", "HB ", "--hb-reply", "HBACK ",
                                    "--hb-delim", "\\n"]
    with open(pcap[:-len(".pcap")] + ".expected.json", encoding="utf-8") as f:
        expected = json.load(f)
    assert differences(expected, analyze_json(pcapcheck, pcap))


def test_differences_can_fail():
    """The comparison itself: it must notice what is wrong."""
    got = {"tcp": [{"conn_state": "SF", "bytes": 6, "t": 0.5}], "x": True}
    assert differences({"tcp": [{"conn_state": "SF"}]}, got) == []
    assert differences({"tcp": [{"conn_state": "REJ"}]}, got)
    assert differences({"tcp": []}, got)
    assert differences({"tcp": [{"bytes": 7}]}, got)
    assert differences({"tcp": [{"t": 0.5000001}]}, got)
    assert differences({"x": 1}, got)
    assert differences({"missing": None}, got)


def test_synthetic_captures_regenerate_identically(tmp_path):
    done = run(["/usr/bin/python3", os.path.join(SYNTHETIC, "make_synthetic.py"), str(tmp_path)])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    made = sorted(os.listdir(tmp_path))
    committed = sorted(f for f in os.listdir(SYNTHETIC)
                       if f.endswith((".pcap", ".json", ".options")))
    assert made == committed
    match, mismatch, errors = filecmp.cmpfiles(SYNTHETIC, tmp_path, made, shallow=False)
    assert mismatch == [] and errors == [], f"differ: {mismatch}, unreadable: {errors}"


def test_garbage_is_refused_clearly(pcapcheck):
    garbage = os.path.join(SYNTHETIC, "garbage.pcap")
    done = run([pcapcheck, "analyze", garbage, "--json"])
    assert done.returncode == 1
    err = done.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("pcapcheck: ")
    assert "garbage.pcap" in err and "unknown file format" in err
    assert done.stdout == b""


def test_missing_and_empty_files(pcapcheck, tmp_path):
    done = run([pcapcheck, "analyze", str(tmp_path / "nope.pcap")])
    assert done.returncode == 1
    assert b"nope.pcap: No such file or directory" in done.stderr
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    done = run([pcapcheck, "analyze", str(empty), "--json"])
    assert done.returncode == 1 and b"empty.pcap" in done.stderr


def test_truncated_file_is_analysed_with_a_warning(pcapcheck):
    pcap = os.path.join(SYNTHETIC, "truncated.pcap")
    done = run([pcapcheck, "analyze", pcap, "--json"])
    assert done.returncode == 0
    verdict = json.loads(done.stdout)
    assert verdict["truncated"] is True
    assert any("truncated" in w for w in verdict["warnings"])
    assert b"truncated" in done.stderr


def test_unsupported_link_type(pcapcheck, tmp_path):
    data = bytearray(open(os.path.join(SYNTHETIC, "fin_four_way.pcap"), "rb").read())
    data[20:24] = (9).to_bytes(4, "little")  # LINKTYPE_PPP
    pcap = tmp_path / "ppp.pcap"
    pcap.write_bytes(bytes(data))
    done = run([pcapcheck, "analyze", str(pcap)])
    assert done.returncode == 1
    assert b"unsupported link type 9 (PPP)" in done.stderr


@pytest.mark.parametrize("name", ["fin_four_way.pcap", "pcapng.pcap", "ipv6_loopback.pcap"])
def test_every_cut_is_survived(pcapcheck, tmp_path, name):
    """A file cut at every byte: exit 0 with JSON (truncated when cut mid-record) or
    1 with one clear line; never a signal."""
    data = open(os.path.join(SYNTHETIC, name), "rb").read()
    cut_file = tmp_path / name
    for cut in range(len(data)):
        cut_file.write_bytes(data[:cut])
        done = run([pcapcheck, "analyze", str(cut_file), "--json"])
        assert done.returncode in (0, 1), f"cut at {cut}: exit {done.returncode}"
        if done.returncode == 1:
            assert done.stderr.startswith(b"pcapcheck: ") and str(cut_file).encode() in done.stderr
        else:
            json.loads(done.stdout)


def test_corrupted_bytes_are_survived(pcapcheck, tmp_path):
    """Every byte of a small capture overwritten in turn with 0x00 and 0xff."""
    data = open(os.path.join(SYNTHETIC, "half_close.pcap"), "rb").read()
    bad = tmp_path / "bad.pcap"
    for i in range(len(data)):
        for value in (0x00, 0xFF):
            changed = bytearray(data)
            changed[i] = value
            bad.write_bytes(bytes(changed))
            done = run([pcapcheck, "analyze", str(bad), "--json"])
            assert done.returncode in (0, 1), f"byte {i} = {value:#x}: exit {done.returncode}"


def test_usage_errors(pcapcheck):
    for args in ([], ["frobnicate"], ["analyze"], ["analyze", "a", "b"], ["analyze", "--xml", "a"],
                 ["capture", "-w", "x.pcap"], ["capture", "-i", "lo", "-w", "x", "-s", "0"],
                 ["capture", "-i"], ["inspect", "--json", "a"]):
        done = run([pcapcheck, *args])
        assert done.returncode == 2, f"{args}: exit {done.returncode}"
        assert b"--help" in done.stderr
    for args in (["--help"], ["-h"], ["capture", "--help"], ["analyze", "--help"],
                 ["inspect", "--help"]):
        done = run([pcapcheck, *args])
        assert done.returncode == 0 and b"SYNOPSIS" in done.stdout
    done = run([pcapcheck, "--version"])
    assert done.returncode == 0 and done.stdout.startswith(b"pcapcheck ")


def test_text_and_inspect_views(pcapcheck):
    pcap = os.path.join(SYNTHETIC, "retransmission.pcap")
    text = run([pcapcheck, "analyze", pcap])
    assert text.returncode == 0
    assert b"SF  (history ShADTadFf" in text.stdout and b"four-way-fin" in text.stdout
    inspect = run([pcapcheck, "inspect", pcap])
    assert inspect.returncode == 0
    lines = inspect.stdout.decode().splitlines()
    assert "[SYN] Seq=0 Win=65495 Len=0" in lines[3]
    assert any("[TCP Retransmission] [PSH, ACK] Seq=1 Ack=1" in line for line in lines)
    assert any(line.startswith("  => SF, history ShADTadFf") for line in lines)


# ------------------------------------------------------------ tshark

def tshark_streams(pcap):
    """{tcp.stream: tcp.completeness on its last frame}, from tshark's two passes."""
    done = run([TSHARK, "-r", pcap, "-2", "-T", "fields", "-e", "tcp.stream",
                "-e", "tcp.completeness"], timeout=120)
    streams = {}
    for line in done.stdout.decode().splitlines():
        stream, _, completeness = line.partition("\t")
        if stream:
            streams[int(stream)] = int(completeness)
    return streams


def tshark_udp_conversations(pcap):
    done = run([TSHARK, "-r", pcap, "-q", "-z", "conv,udp"], timeout=120)
    return len(re.findall(r"<->", done.stdout.decode()))


def tshark_reads(pcap):
    done = run([TSHARK, "-r", pcap, "-c", "1", "-T", "fields", "-e", "frame.number"], timeout=60)
    return done.stdout.strip() == b"1"


@pytest.mark.skipif(not os.path.exists(TSHARK), reason="tshark is not installed")
@pytest.mark.parametrize("pcap", GOLDEN, ids=golden_id)
def test_tshark_agrees(pcapcheck, pcap):
    if not tshark_reads(pcap):
        pytest.skip("tshark cannot read this capture")
    verdict = analyze_json(pcapcheck, pcap)
    streams = tshark_streams(pcap)
    ours = {c["id"] - 1: c["tcp_completeness"] for c in verdict["tcp"]}
    assert ours == streams, f"pcapcheck {ours} / tshark {streams} (stream: completeness)"
    udp = tshark_udp_conversations(pcap)
    if any(verdict["tunnels"][k]["decoded"] for k in ("vxlan", "gtpu")):
        # tshark lists the tunnel's outer UDP flow too; pcapcheck only the inner ones.
        assert len(verdict["udp"]) < udp
    else:
        assert len(verdict["udp"]) == udp
