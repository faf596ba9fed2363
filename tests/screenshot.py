"""Rendering a page with headless Chromium, and looking at the screenshot:
for the kit's HTML reports (pcapcheck's capture page, the class report)."""

import os
import shutil
import signal
import struct
import subprocess
import tempfile
import zlib

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_DEADLINE = 90  # seconds for one rendering


def png_pixels(path):
    """(width, height, distinct RGB(A) pixel values) of an 8-bit RGB(A) PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack("!I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack("!IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"PNG depth {depth} colour {color}"
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, unfilter(zlib.decompress(idat), width, height, bpp)


def unfilter(raw, width, height, bpp):
    """The distinct pixel values of PNG scanlines (filters 0-4 undone)."""
    stride, prev, seen = width * bpp, bytearray(width * bpp), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        seen.update(bytes(line[i:i + bpp]) for i in range(0, stride, bpp * 7))
        prev = line
    return seen


def render(page, png, width, height):
    """Screenshot PAGE with headless Chromium into PNG; its process group dies after."""
    profile = tempfile.mkdtemp(prefix="socklab-chromium-")
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
            "--hide-scrollbars", f"--screenshot={png}", f"--window-size={width},{height}",
            "file://" + page]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=CHROMIUM_DEADLINE)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its zygotes and GPU helpers too
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    assert os.path.exists(png), out.decode(errors="replace")[-2000:]


def looks_rendered(png, width, height, min_colours=50):
    """Assert PNG has the size asked for and far more colours than a blank page."""
    w, h, colours = png_pixels(png)
    assert (w, h) == (width, height), f"screenshot is {w}x{h}, not {width}x{height}"
    assert len(colours) > min_colours, f"only {len(colours)} colours: the page looks blank"
