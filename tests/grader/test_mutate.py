"""tools/mutate.py: the mutation operators, what they leave alone, and one
small run that must kill, keep and see through its mutants."""
import json
import subprocess

import mutate
from socklab.paths import ROOT


def _mutated(line):
    return {(op, new.strip()) for op, new in mutate.mutations(line)}


def test_relational_logical_and_arithmetic_operators():
    got = _mutated("if (n < 0 && len + 1 >= size)")
    assert ("ror", "if (n <= 0 && len + 1 >= size)") in got
    assert ("ror", "if (n < 0 && len + 1 > size)") in got
    assert ("lcr", "if (n < 0 || len + 1 >= size)") in got
    assert ("aor", "if (n < 0 && len - 1 >= size)") in got
    assert ("neg", "if (!(n < 0 && len + 1 >= size))") in got


def test_constants_become_one_more_one_less_and_zero():
    got = {new for op, new in _mutated("n = recv(fd, buf, 512, 0);") if op == "crp"}
    assert {"n = recv(fd, buf, 513, 0);", "n = recv(fd, buf, 511, 0);", "n = recv(fd, buf, 0, 0);",
            "n = recv(fd, buf, 512, 1);"} <= got


def test_call_statements_are_deleted_and_two_arguments_swapped():
    got = _mutated("\tpthread_mutex_lock(&table->lock);")
    assert ("sdl", ";") in got
    assert ("swp", "memcpy(src, dst);") in _mutated("memcpy(dst, src);")


def test_strings_and_comments_are_left_alone():
    assert mutate.mutations('puts("a < b, 1 + 2"); /* x == 3 */') == [("sdl", ";")]
    assert mutate.masked('x = "a\\"<b" + 1;') == 'x = "@@@@@" + 1;'


def test_only_blank_regions_and_no_logging_lines():
    text = "\n".join([
        "int a = 1 + 2;",
        "\t/* BLANK 1: do it. */",
        "\tsl_log(&sl_prog_log, SL_INFO, \"n %d\", n + 1);",
        "\tn = n + 1;",
        "\t/* SKELETON 1:",
        "\tn = 0;",
        "\t*/",
        "\t/* END 1 */",
        "int b = 3 - 4;",
    ])
    assert [number for number, _ in mutate.code_lines(text)] == [4]
    assert [number for number, _ in mutate.code_lines(text, whole_file=True)] == [1, 4, 9]


def test_a_small_run_kills_keeps_and_sees_through(tmp_path):
    # Two lines of udpclient's poll loop: the retry's '<' made '<=' kills the
    # program; its '==' made '!=' is listed as equivalent, and the error
    # check's '<=' is the same code after gcc -O2 (trivially equivalent).
    with open(f"{ROOT}/solutions/echo/udpclient.c") as f:
        lines = [n for n, text in enumerate(f, 1)
                 if text.strip() in ("} while (ready < 0 && errno == EINTR);", "if (ready < 0) {")]
    assert len(lines) == 2, "the two lines this test mutates are no longer in udpclient.c"
    out = subprocess.run(["/usr/bin/python3", f"{ROOT}/tools/mutate.py", "echo", "--file", "udpclient.c",
                          "--line", str(lines[0]), "--line", str(lines[1]), "--op", "ror",
                          "--out", str(tmp_path), "--target", "0", "-j", "2"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads((tmp_path / "echo.json").read_text())
    statuses = {m["status"] for m in data["mutants"]}
    assert data["graded"] == len(data["mutants"]) == 3
    assert "killed" in statuses and "equivalent" in statuses, data["counts"]
    assert sum(data["counts"].values()) == data["graded"]
    assert "mutation score" in out.stdout


def test_an_equivalent_can_be_limited_to_one_function():
    text = "static int a(int n)\n{\n\treturn -1;\n}\n\nint\nb(void)\n{\n\treturn -1;\n}\n"
    functions = mutate.enclosing_functions(text)
    assert (functions[3], functions[9], functions[5]) == ("a", "b", None)
    listed = {("x.c", "return -1;", "return -0;", "a"): "only a's copy"}
    mutant = {"file": "x.c", "original": "return -1;", "mutated": "return -0;"}
    assert mutate.equivalent_why(dict(mutant, function="a"), listed) == "only a's copy"
    assert mutate.equivalent_why(dict(mutant, function="b"), listed) is None
    listed[("x.c", "return -1;", "return -0;", None)] = "every copy"
    assert mutate.equivalent_why(dict(mutant, function="b"), listed) == "every copy"
