"""Every lab's rubric is sound: 100 points, every case has a test and back."""
import ast
import glob
import os

import pytest

from socklab.labspec import Lab, SpecError
from socklab.paths import LABS
from socklab.proc import Limits

LAB_NAMES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(LABS, "*", "lab.toml")))


def _test_functions(lab_dir):
    names = set()
    for path in glob.glob(os.path.join(lab_dir, "**", "test_*.py"), recursive=True):
        with open(path) as f:
            tree = ast.parse(f.read())
        names |= {n.name[5:] for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    return names


def test_there_are_labs():
    assert "echo" in LAB_NAMES


@pytest.mark.parametrize("name", LAB_NAMES)
def test_rubric_sums_to_100_and_matches_the_tests(name):
    lab = Lab(name)
    assert lab.check() == []
    assert lab.hidden_present, "the kit's own tests need the hidden cases"
    assert set(lab.cases) == _test_functions(lab.dir)


@pytest.mark.parametrize("name", LAB_NAMES)
def test_hidden_cases_live_only_in_hidden(name):
    lab = Lab(name)
    visible_dir_tests = set()
    for path in glob.glob(os.path.join(lab.dir, "test_*.py")):
        with open(path) as f:
            visible_dir_tests |= {n.name[5:] for n in ast.parse(f.read()).body
                                  if isinstance(n, ast.FunctionDef)}
    hidden = {c.name for c in lab.cases.values() if c.visibility == "hidden"}
    assert hidden and not (hidden & visible_dir_tests)
    with open(os.path.join(lab.dir, "lab.toml")) as f:
        toml_text = f.read()
    assert not any(h in toml_text for h in hidden), "lab.toml must not name hidden cases"


def test_a_case_may_ask_for_a_known_build_variant_only(tmp_path):
    lab_dir = tmp_path / "toy"
    lab_dir.mkdir()
    toml = 'binaries = ["toy"]\n[cases.races]\npoints = 100\ntitle = "t"\nbuild = "{}"\n'
    (lab_dir / "lab.toml").write_text(toml.format("thread"))
    assert Lab("toy", root=str(tmp_path)).cases["races"].build == "thread"
    (lab_dir / "lab.toml").write_text(toml.format("threads"))
    with pytest.raises(SpecError, match="case races: build must be one of"):
        Lab("toy", root=str(tmp_path))


def test_a_lab_may_raise_known_limits_only(tmp_path):
    lab_dir = tmp_path / "toy"
    lab_dir.mkdir()
    toml = 'binaries = ["toy"]\n[cases.many]\npoints = 100\ntitle = "t"\n[limits]\n{}\n'
    (lab_dir / "lab.toml").write_text(toml.format("nproc = 512\nnofile = 1024"))
    limits = Lab("toy", root=str(tmp_path)).limits
    assert limits == {"nproc": "512", "nofile": "1024"}
    applied = Limits(uid=61000, **limits).values
    assert applied["nproc"] == "512" and applied["nofile"] == "1024" and applied["cpu"] == 10
    (lab_dir / "lab.toml").write_text(toml.format("threads = 512"))
    with pytest.raises(SpecError, match=r"\[limits\] knows .* not threads"):
        Lab("toy", root=str(tmp_path))
    (lab_dir / "lab.toml").write_text(toml.format("").replace("[limits]\n", ""))
    assert Lab("toy", root=str(tmp_path)).limits == {}


def test_a_case_may_keep_headers_only_in_its_capture(tmp_path):
    lab_dir = tmp_path / "toy"
    lab_dir.mkdir()
    toml = 'binaries = ["toy"]\n[cases.big]\npoints = 100\ntitle = "t"\nsnaplen = {}\n'
    (lab_dir / "lab.toml").write_text(toml.format(256))
    assert Lab("toy", root=str(tmp_path)).cases["big"].snaplen == 256
    for bad in ("10", '"256"'):
        (lab_dir / "lab.toml").write_text(toml.format(bad))
        with pytest.raises(SpecError, match="snaplen must be"):
            Lab("toy", root=str(tmp_path))


def test_a_case_may_ask_for_known_faults_only(tmp_path):
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    (lab_dir / "lab.toml").write_text('binaries = ["x"]\n[cases.pieces]\npoints = 100\ntitle = "t"\n'
                                      'faults = ["short", "eintr"]\n')
    assert Lab("lab", root=str(tmp_path)).cases["pieces"].faults == ["short", "eintr"]
    (lab_dir / "lab.toml").write_text('binaries = ["x"]\n[cases.pieces]\npoints = 100\ntitle = "t"\n'
                                      'faults = ["disk-full"]\n')
    with pytest.raises(SpecError, match="case pieces: faults must be some of"):
        Lab("lab", root=str(tmp_path))
