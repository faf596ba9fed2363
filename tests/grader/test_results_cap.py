"""One submission's results folder stays under its cap: the largest captures
go first, and the cases that lost theirs say so (issue 14, part 3)."""
import os

from socklab import classreport
from socklab.cli import keep_under_cap


def _case(name, capture):
    return {"name": name, "capture": capture, "feedback": "what the case saw"}


def _results_with(tmp_path, sizes):
    (tmp_path / "captures").mkdir()
    cases = []
    for name, size in sizes.items():
        (tmp_path / "captures" / f"{name}.pcap").write_bytes(b"\0" * size)
        cases.append(_case(name, f"captures/{name}.pcap"))
    (tmp_path / "captures" / "flood.pcap.events").write_text("1.0 grader stopped x\n")
    return cases


def test_the_largest_captures_go_until_the_folder_fits(tmp_path):
    cases = _results_with(tmp_path, {"small": 1000, "flood": 50_000, "big": 20_000})
    removed = keep_under_cap(str(tmp_path), cases, cap=25_000)
    assert removed == ["flood"]
    by = {c["name"]: c for c in cases}
    assert by["flood"]["capture"] is None and "was removed" in by["flood"]["feedback"]
    assert not (tmp_path / "captures" / "flood.pcap").exists()
    assert not (tmp_path / "captures" / "flood.pcap.events").exists()
    assert by["big"]["capture"] == "captures/big.pcap" and "removed" not in by["big"]["feedback"]
    assert os.path.exists(tmp_path / "captures" / "small.pcap")


def test_a_folder_under_its_cap_is_left_alone(tmp_path):
    cases = _results_with(tmp_path, {"a": 1000, "b": 2000})
    assert keep_under_cap(str(tmp_path), cases, cap=1 << 20) == []
    assert all(c["capture"] for c in cases)


def test_the_class_page_names_the_submissions_over_their_cap():
    data = {"lab": "echo", "title": "Echo", "max_score": 100, "students": 2, "graded_now": 2, "seconds": 1,
            "mean": 50, "median": 50, "statuses": {"graded": 2}, "histogram": [0] * 10, "cases": [],
            "skipped_entries": [],
            "scores": {"alice": {"score": 100, "status": "graded", "captures_removed": []},
                       "mallory": {"score": 0, "status": "graded", "captures_removed": ["tcp_server_uppercase"]}}}
    page = classreport.class_page(data)
    assert "Results over their cap" in page and "mallory" in page.split("Results over their cap")[1]
    assert "alice" not in page.split("Results over their cap")[1].split("</section>")[0]
