"""The texts a student reads: every fail() that says what it saw says what it
expected, no string doubles a word, and graded feedback has no Python
renderings (None, b'...') and no 'Saw:' alone (tools/feedbacktexts.py).
The graded feedback of every skeleton and mutant is checked in
tests/labs/test_lab_proofs.py with the same functions."""
import feedbacktexts as ft
from socklab.safetext import PROGRAM_PREFIX


def test_the_tree_passes_the_static_checks():
    found = ft.static_findings()
    assert found == {"saw without expected": [], "doubled word": []}


def test_a_fail_with_saw_and_no_expected_is_found():
    source = ('def f(case):\n'
              '    case.fail("ended", saw=x)\n'
              '    case.fail("ended", expected="running", saw=x)\n'
              '    case.fail("ended", None, x)\n'
              '    case.fail("ended", "running", x)\n'
              '    raise CaseFailure("ended", expected=None, saw=x)\n')
    assert ft.saw_without_expected(source) == [2, 4, 6]


def test_doubled_words_are_found_but_not_tokens_or_numbers():
    source = ('A = "the scripted scripted server"\n'
              'B = "Makefile, Makefile"\n'
              'C = "LOGIN, LIST, DEL, DEL"\n'
              'D = "0 0 1, 1"\n'
              'E = f"a {x} a"\n')
    assert ft.doubled_words(source) == [(1, "scripted scripted"), (2, "Makefile, Makefile")]


def test_graded_texts_with_python_renderings_are_found():
    bad = ("Expected: 'HELLO\\n'\nSaw: b'hello\\n'\n\n"
           "Saw: nothing\n"
           "heartbeats: 0 requests by None\n"
           "the scripted scripted client")
    problems = ft.text_problems(bad)
    assert len(problems) == 4, problems
    assert any("bytes literal" in p for p in problems)
    assert any("without an 'Expected:'" in p for p in problems)
    assert any(p.startswith("None") for p in problems)
    assert any("doubled word" in p for p in problems)


def test_a_programs_own_lines_are_not_the_graders():
    text = ("Expected: 'A'\nSaw: 'a'\n"
            f"tcpserver stdout (last lines):\n{PROGRAM_PREFIX}b'x' None None\n")
    assert ft.text_problems(text) == []


def test_results_problems_names_the_case():
    data = {"cases": [{"name": "tcp_x", "summary": "exit status None", "feedback": ""},
                      {"name": "tcp_y", "summary": "fine", "feedback": "Expected: 1\nSaw: 2"}]}
    assert ft.results_problems(data) == ["tcp_x: None: 'exit status None'"]
