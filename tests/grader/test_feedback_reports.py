"""Feedback text and the report formats (Gradescope, JUnit, Autolab)."""
import json
import xml.etree.ElementTree as ET

from socklab import report
from socklab.feedback import CaseFailure, first_difference, show_bytes


def test_first_difference_points_at_the_byte():
    assert first_difference(b"HELLO", b"HELLO") is None
    assert "at byte 2 " in first_difference(b"HELLO", b"HEllO")
    assert "at byte 3 " in first_difference(b"HELLO", b"HEL")
    assert "end of data" in first_difference(b"HEL", b"HELLO")


def test_show_bytes_is_unambiguous_and_short():
    assert show_bytes(b"a\nb") == "'a\\nb'"
    assert show_bytes(b"") == "nothing (0 bytes)"
    long = show_bytes(b"x" * 1000)
    assert long.endswith("(1000 bytes)") and len(long) < 100


def test_case_failure_text_has_every_part():
    text = CaseFailure("it broke", expected="A", saw="B", difference="at byte 0", hint="fix it").text()
    for part in ("it broke", "Expected:", "Saw:", "First difference:", "Hint:", "fix it"):
        assert part in text


def _results(hidden_present=False):
    case = {"name": "a", "title": "A", "visibility": "visible", "max_points": 60, "points": 60,
            "status": "passed", "summary": "", "feedback": "", "seconds": 0.5}
    bad = dict(case, name="b", title="B", visibility="after_due_date", max_points=30, points=0,
               status="failed", summary="wrong <reply>", feedback="saw & expected")
    unchecked = dict(case, name="c", max_points=10, points=0, status="not_checked",
                     summary="Not checked", feedback="Not checked")
    return {"lab": "echo", "submission": "x", "max_score": 110 if not hidden_present else 100,
            "hidden": {"count": 1, "points": 10, "present": hidden_present},
            "cases": [case, bad, unchecked]}


def test_gradescope_results_follow_its_schema():
    gs = report.gradescope(_results())
    assert gs["score"] == 60
    assert [t["max_score"] for t in gs["tests"]] == [60, 30, 10]
    assert [t["visibility"] for t in gs["tests"]] == ["visible", "after_due_date", "visible"]
    assert all(set(t) >= {"name", "score", "max_score", "output", "visibility"} for t in gs["tests"])
    json.dumps(gs)


def test_headline_counts_hidden_and_unchecked_points():
    line = report.headline(_results())
    assert "60/110" in line and "1 hidden case" in line and "10 points not checked" in line
    assert "hidden" not in report.headline(_results(hidden_present=True))


def test_headline_says_why_points_were_not_checked():
    results = _results()
    results["cases"][2]["summary"] = "Not checked: no capture rights here (no network namespace): ..."
    assert "10 points not checked (no capture rights on this machine)" in report.headline(results)
    results["cases"][2]["summary"] = "Not checked: could not judge: the grader was late in 3 attempts"
    line = report.headline(results)
    assert "held back" in line and "capture rights" not in line


def test_junit_xml_parses_and_counts():
    suite = ET.fromstring(report.junit_xml(_results()))
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    failure = suite.find("testcase[@name='b']/failure")
    assert failure.get("message") == "wrong <reply>" and failure.text == "saw & expected"


def test_autolab_line_is_json_with_scores():
    line = json.loads(report.autolab_line(_results()))
    assert line == {"scores": {"a": 60, "b": 0, "c": 0}, "scoreboard": [60]}


def test_gradescope_holds_hidden_cases_back_and_never_tells_their_points():
    results = _results(hidden_present=True)
    results["cases"].append(dict(results["cases"][0], name="h", title="H", visibility="hidden",
                                 max_points=10, points=0, status="failed", feedback="lost"))
    gs = report.gradescope(results)
    assert gs["tests"][-1]["visibility"] == "after_published"   # it carries points: not 'hidden'
    assert gs["score"] == 60                                    # Gradescope holds the total back itself
    assert gs["output"].startswith("echo: 60/100 in the 3 case(s) you can see; the other 1 case(s), "
                                   "worth 10 points, and your total are shown when your instructor "
                                   "publishes the grades"), gs["output"]
    assert "60/110" not in gs["output"]
    due = report.gradescope(results, hidden_as="after_due_date")
    assert due["tests"][-1]["visibility"] == "after_due_date" and "after the due date" in due["output"]
    try:
        report.gradescope(results, hidden_as="hidden")
    except ValueError as e:
        assert "after_published" in str(e)
    else:
        raise AssertionError("a hidden case with points must not be 'hidden' on Gradescope")
