"""The Chinese handouts (handouts/zh/LAB.md) stay in step with the English
ones (issue 17): same code blocks byte for byte, same TODO headings, same
table values, and a recorded hash of the English substance that still
matches. The proofs below change a copy of the tree, never the real files."""
import os
import shutil
import subprocess
import sys

import pytest

from socklab.paths import ROOT

import translations

TOOL = os.path.join(ROOT, "tools", "translations.py")
TRANSLATED = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "handouts", "zh")) if name.endswith(".md"))


@pytest.mark.parametrize("lab", translations.labs(ROOT))
def test_translation_in_step(lab):
    status, problems = translations.check_lab(ROOT, lab, translations.read_sync(ROOT))
    assert status in ("ok", "untranslated"), f"handouts/zh/{lab}.md:\n  " + "\n  ".join(problems)


def test_some_lab_translated():
    assert "echo" in TRANSLATED


def _copy_tree(tmp_path):
    """A copy of the handouts, enough for the tool to run on."""
    shutil.copytree(os.path.join(ROOT, "handouts"), tmp_path / "handouts")
    return str(tmp_path)


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=30)


def _edit(path, old, new):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert old in text, f"{old!r} not in {path}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new, 1))


def test_tool_passes_on_the_tree_and_lists_untranslated():
    r = _run()
    assert r.returncode == 0, r.stdout + r.stderr
    lines = dict(line.split(None, 1) for line in r.stdout.splitlines() if not line.startswith(" "))
    assert lines["echo"] == "ok"
    for lab in translations.labs(ROOT):
        assert lines[lab] == ("ok" if lab in TRANSLATED else "untranslated")


def test_help():
    r = _run("--help")
    assert r.returncode == 0 and "--record" in r.stdout


def test_english_code_block_changed_fails(tmp_path):
    """An English code block changed and not carried into the translation."""
    root = _copy_tree(tmp_path)
    _edit(os.path.join(root, "handouts", "echo.md"), "./tcpserver 12000\n", "./tcpserver 12001\n")
    r = _run("--root", root, "echo")
    assert r.returncode == 1, r.stdout
    assert "echo       FAIL" in r.stdout
    assert "code block" in r.stdout and " differs" in r.stdout and "./tcpserver 12001" in r.stdout
    assert "changed its code blocks" in r.stdout
    # Carrying the change into the translation is not enough: it must be reviewed and recorded.
    _edit(os.path.join(root, "handouts", "zh", "echo.md"), "./tcpserver 12000\n", "./tcpserver 12001\n")
    r = _run("--root", root, "echo")
    assert r.returncode == 1 and " differs" not in r.stdout and "changed its code blocks" in r.stdout
    assert _run("--root", root, "--record", "echo").returncode == 0
    assert _run("--root", root, "echo").returncode == 0


def test_translated_code_block_changed_fails(tmp_path):
    """A code block altered in the translation (e.g. a translated comment)."""
    root = _copy_tree(tmp_path)
    _edit(os.path.join(root, "handouts", "zh", "echo.md"), "# type lines; Ctrl-D to end", "# 输入若干行；Ctrl-D 结束")
    r = _run("--root", root, "echo")
    assert r.returncode == 1 and "code block" in r.stdout
    assert _run("--root", root, "--record", "echo").returncode == 1, "a differing translation must not be recorded"


def test_todo_heading_changed_fails(tmp_path):
    root = _copy_tree(tmp_path)
    _edit(os.path.join(root, "handouts", "echo.md"), "### TODO 7: Close", "### TODO 7: Shut down and close")
    r = _run("--root", root, "echo")
    assert r.returncode == 1 and "TODO heading" in r.stdout and "changed its" in r.stdout


def test_translated_todo_heading_fails(tmp_path):
    """The heading itself must stay English; its Chinese text goes below it."""
    root = _copy_tree(tmp_path)
    zh = os.path.join(root, "handouts", "zh", "echo.md")
    _edit(zh, "### TODO 1: Connect to the server with sl_tcp_connect() (IPv4 or IPv6).",
          "### TODO 1: 用 sl_tcp_connect() 连接服务器（IPv4 或 IPv6）。")
    r = _run("--root", root, "echo")
    assert r.returncode == 1 and "TODO heading 1 differs" in r.stdout


def test_todo_text_left_untranslated_fails(tmp_path):
    root = _copy_tree(tmp_path)
    _edit(os.path.join(root, "handouts", "zh", "echo.md"), "**用 sl_tcp_connect() 连接服务器（IPv4 或 IPv6）。**",
          "Connect to the server with sl_tcp_connect() (IPv4 or IPv6).")
    r = _run("--root", root, "echo")
    assert r.returncode == 1 and "no Chinese line below: ### TODO 1:" in r.stdout


def test_table_value_changed_fails(tmp_path):
    root = _copy_tree(tmp_path)
    _edit(os.path.join(root, "handouts", "zh", "echo.md"), "| `sl_io.h` |", "| `sl_iox.h` |")
    r = _run("--root", root, "echo")
    assert r.returncode == 1 and "table value" in r.stdout and "sl_iox.h" in r.stdout


def test_missing_translation_is_listed_not_failed(tmp_path):
    root = _copy_tree(tmp_path)
    os.remove(os.path.join(root, "handouts", "zh", "echo.md"))
    r = _run("--root", root)
    assert r.returncode == 0 and "echo       untranslated" in r.stdout


def test_table_values_parse():
    text = ("| exit | meaning |\n| --- | --- |\n| 0 | ok |\n| `2` | bad usage |\n| words | `a|b` |\n\n"
            "```\n| 9 | in a block |\n```\n")
    assert translations.table_values(text) == [(0, 3, 0, "0"), (0, 4, 0, "`2`"), (0, 5, 1, "`a|b`")]
    assert translations.code_blocks(text) == ["```\n| 9 | in a block |\n```"]
