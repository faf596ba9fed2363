"""A student who rewrites a program without the kit's helpers must not hit a
link error the handout never mentions (issue 15): where a lab's given
object files log through the program's logger (sl_prog_log, defined by the
file holding main()), the handout names every object each program links and
that logger."""
import glob
import os
import re

import pytest

from socklab.paths import ROOT

LABS = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "solutions", "*", "Makefile"))
              if "common" not in p)


def _needs_logger(lab):
    """The lab's C files without main() that use sl_prog_log."""
    found = []
    for path in glob.glob(os.path.join(ROOT, "solutions", lab, "*.c")):
        with open(path) as f:
            text = f.read()
        if "sl_prog_log" in text and not re.search(r"^int\s+main\s*\(", text, re.M):
            found.append(os.path.basename(path)[:-2] + ".o")
    return found


def _programs(lab):
    """{program: [its own object files]} from the lab Makefile's rules."""
    with open(os.path.join(ROOT, "solutions", lab, "Makefile")) as f:
        text = f.read()
    variables = dict(re.findall(r"^(\w+)\s*:?=\s*(.*)$", text, re.M))
    programs = {}
    for name, deps in re.findall(r"^(\w+):\s*(\w+\.o\b.*)$", text, re.M):
        words = []
        for word in deps.split():
            m = re.fullmatch(r"\$\((\w+)\)", word)
            words += variables.get(m.group(1), "").split() if m and m.group(1) != "LIB_OBJS" else [word]
        programs[name] = [w for w in words if w.endswith(".o")]
    return programs


@pytest.mark.parametrize("lab", LABS)
def test_the_handout_names_what_each_program_links_when_given_code_needs_the_logger(lab):
    users = _needs_logger(lab)
    if not users:
        pytest.skip(f"{lab}: only the files holding main() use sl_prog_log")
    with open(os.path.join(ROOT, "handouts", f"{lab}.md")) as f:
        handout = f.read()
    assert "sl_prog_log" in handout, f"{lab}: {', '.join(users)} need sl_prog_log; the handout never says so"
    for program, objects in _programs(lab).items():
        if any(o in users for o in objects):
            missing = [o for o in objects if f"{o}" not in handout]
            assert not missing, f"{lab}: the handout does not name {missing}, linked into {program}"


def test_the_makefile_reader_sees_the_objects():
    assert _programs("filexfer")["fileserver"][:3] == ["fileserver.o", "auth.o", "store.o"]
    assert "auth.o" in _needs_logger("filexfer")
