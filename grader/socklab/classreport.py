"""What a class run leaves for the instructor: the gradebook (CSV), a summary
(class.json), the class report (index.html: score histogram, the cases the
class failed most with their most common failure, similar pairs, a link to
every student) and one page per student with the feedback they would see.
Every page is self-contained HTML: no script, no external file."""

import csv
import io
import json
import os
import re
from collections import Counter

from . import report
from .safetext import html_text, visible

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
main{max-width:1100px;margin:0 auto;padding:20px}
section{background:#fff;border:1px solid #d8dde6;border-radius:8px;padding:16px 20px;margin:0 0 16px}
h1{font-size:24px;margin:4px 0 8px}h2{font-size:18px;margin:0 0 10px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e9ef;
vertical-align:top}th{font-size:13px;color:#4a5568}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff}
.passed{background:#2f855a}.failed,.not_run{background:#c53030}.error{background:#805ad5}.not_checked{background:#b7791f}
.full{color:#2f855a;font-weight:600}.low{color:#c53030;font-weight:600}
pre{background:#f1f3f7;border-radius:6px;padding:10px;overflow-x:auto;font-size:13px;white-space:pre-wrap}
.muted{color:#5a6577;font-size:13px}a{color:#2b6cb0}
"""


def _page(title, body):
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{html_text(title)}</title>"
            f"<style>{CSS}</style></head><body><main>\n{body}\n</main></body></html>\n")


def _e(text):
    return html_text(text)


# --- figures ------------------------------------------------------------------
def histogram(scores, max_score):
    """Counts of scores in ten bins of a tenth of MAX_SCORE each (full marks in the last)."""
    bins = [0] * 10
    for s in scores:
        bins[min(int(10 * s / max_score), 9) if max_score else 0] += 1
    return bins


def _group_key(summary):
    """Failure summaries grouped regardless of numbers (ports, counts, times)."""
    return re.sub(r"\d+(\.\d+)?", "N", summary)


UNTOUCHED = re.compile(r"TODO \d+ not done yet")   # what a skeleton's blank says on stderr (SL_TODO)


def case_stats(lab, outcomes):
    """Per case in rubric order: how many passed and failed, how many of the
    failures were blanks not attempted (the skeleton's 'TODO n not done
    yet'), and the most common failure among the attempts (its summary, as
    one student saw it, and how many)."""
    stats = []
    for name, spec in lab.cases.items():
        passed, failed, untouched, reasons, example = 0, 0, 0, Counter(), {}
        for o in outcomes:
            case = next((c for c in o.results.get("cases", []) if c["name"] == name), None)
            if case is None or case["status"] == "not_run":
                continue
            if case["status"] == "passed":
                passed += 1
                continue
            failed += 1
            if UNTOUCHED.search(case.get("feedback") or ""):
                untouched += 1
                continue
            key = _group_key(case["summary"] or case["status"])
            reasons[key] += 1
            example.setdefault(key, case["summary"] or case["status"])
        common = reasons.most_common(1)
        stats.append({"name": name, "title": spec.title, "points": spec.points, "passed": passed,
                      "failed": failed, "untouched": untouched,
                      "most_common_failure": example[common[0][0]] if common else None,
                      "most_common_count": common[0][1] if common else 0})
    return stats


def summary(lab, outcomes, skipped, seconds, similar=None):
    scores = [o.results.get("score", 0) for o in outcomes]
    statuses = Counter(o.status for o in outcomes)
    return {
        "lab": lab.name, "title": lab.title, "max_score": lab.total_points,
        "students": len(outcomes), "graded_now": sum(not o.skipped for o in outcomes),
        "statuses": dict(statuses), "seconds": round(seconds, 1),
        "mean": round(sum(scores) / len(scores), 1) if scores else None,
        "median": sorted(scores)[len(scores) // 2] if scores else None,
        "histogram": histogram(scores, lab.total_points),
        "cases": case_stats(lab, outcomes),
        "skipped_entries": [{"entry": visible(n), "why": w} for n, w in skipped],
        "similar_pairs": similar,
        "scores": {o.student: {"score": o.results.get("score", 0), "status": o.status,
                               "captures_removed": o.results.get("captures_removed", [])} for o in outcomes},
    }


# --- files ----------------------------------------------------------------------
def write_gradebook(path, lab, outcomes):
    """student, score, max_score, status, then the points of each case."""
    names = list(lab.cases)
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(["student", "score", "max_score", "status", *names])
    for o in sorted(outcomes, key=lambda o: o.student):
        points = {c["name"]: c["points"] for c in o.results.get("cases", [])}
        w.writerow([o.student, o.results.get("score", 0), lab.total_points, o.status,
                    *[points.get(n, 0) for n in names]])
    report.write_atomic(path, text.getvalue())


def write_all(out_dir, lab, outcomes, skipped, seconds, similar=None):
    """Gradebook, class.json, the class page and every student page; return the summary."""
    data = summary(lab, outcomes, skipped, seconds, similar)
    write_gradebook(os.path.join(out_dir, "gradebook.csv"), lab, outcomes)
    report.write_atomic(os.path.join(out_dir, "class.json"), json.dumps(data, indent=1, ensure_ascii=False))
    report.write_atomic(os.path.join(out_dir, "index.html"), class_page(data))
    for o in outcomes:
        if o.results:
            report.write_atomic(os.path.join(out_dir, "students", o.student, "index.html"), student_page(o.student, o.results))
    return data



# --- pages ----------------------------------------------------------------------
def _histogram_svg(bins, max_score):
    width, height, gap = 600, 180, 6
    bar_w = (width - gap * 11) / 10
    top = max(bins + [1])
    parts = [f'<svg viewBox="0 0 {width} {height + 40}" width="{width}" role="img" '
             f'aria-label="score histogram">']
    for i, n in enumerate(bins):
        h = (height - 20) * n / top
        x = gap + i * (bar_w + gap)
        lo = i * max_score // 10
        label = f"{lo}–{max_score}" if i == 9 else f"{lo}–{(i + 1) * max_score // 10 - 1}"
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'fill="{"#2f855a" if i == 9 else "#3182ce"}"><title>{label}: {n}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - h - 4:.1f}" font-size="13" '
                     f'text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height + 16}" font-size="12" '
                     f'text-anchor="middle" fill="#4a5568">{label}</text>')
    parts.append(f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#a0aec0"/></svg>')
    return "".join(parts)


def class_page(data):
    max_score = data["max_score"]
    statuses = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(data["statuses"].items()))
    out = [f"<section><h1>socklab · {_e(data['lab'])} · class report</h1>"
           f"<p>{_e(data['title'])}</p>"
           f"<p><b>{data['students']}</b> submissions ({_e(statuses) or 'none'}); mean "
           f"<b>{data['mean']}</b>, median <b>{data['median']}</b> of {max_score}. "
           f"<span class=muted>This run graded {data['graded_now']} and took {data['seconds']} s; the others "
           f"were unchanged since an earlier run.</span></p></section>"]
    out.append(f"<section><h2>Scores</h2>{_histogram_svg(data['histogram'], max_score)}</section>")
    rows = []
    for c in sorted(data["cases"], key=lambda c: (-c["failed"], c["name"])):
        attempted = c["failed"] - c.get("untouched", 0)
        common = (f"{_e(c['most_common_failure'])} <span class=muted>({c['most_common_count']} of the "
                  f"{attempted} that tried)</span>" if c["most_common_failure"] else "")
        if c.get("untouched"):
            common += f"<br><span class=muted>{c['untouched']} more left its TODO undone</span>"
        rows.append(f"<tr><td><b>{_e(c['name'])}</b><br><span class=muted>{_e(c['title'])}</span></td>"
                    f"<td class=num>{c['points']}</td><td class=num>{c['passed']}</td>"
                    f"<td class=num>{c['failed']}</td><td>{common}</td></tr>")
    out.append("<section><h2>Cases, most failed first</h2><table><tr><th>case</th><th class=num>points</th>"
               "<th class=num>passed</th><th class=num>failed</th><th>most common failure (what the class "
               "misunderstood)</th></tr>" + "".join(rows) + "</table></section>")
    if data.get("similar_pairs") is not None:
        pairs = data["similar_pairs"]
        body = ("".join(f"<tr><td><a href=\"students/{_e(p['a'])}/index.html\">{_e(p['a'])}</a></td>"
                        f"<td><a href=\"students/{_e(p['b'])}/index.html\">{_e(p['b'])}</a></td>"
                        f"<td class=num>{p['percent']}%</td><td>{_e(p['file'])}</td></tr>" for p in pairs)
                if pairs else "<tr><td colspan=4>no pair above the threshold</td></tr>")
        out.append("<section><h2>Similar submissions</h2><p class=muted>From sim_c (Debian similarity-tester), "
                   "with the skeleton's own lines left out: the share of one submission's code found in the "
                   "other. A lead to look at, not a verdict.</p><table><tr><th>student</th><th>similar to</th>"
                   "<th class=num>share</th><th>file</th></tr>" + body + "</table></section>")
    students = []
    for name, s in sorted(data["scores"].items()):
        cls = "full" if s["score"] == max_score else ("low" if s["score"] < max_score / 2 else "")
        students.append(f"<tr><td><a href=\"students/{_e(name)}/index.html\">{_e(name)}</a></td>"
                        f"<td class=\"num {cls}\">{s['score']}</td><td>{_e(s['status'].replace('_', ' '))}</td></tr>")
    out.append("<section><h2>Students</h2><table><tr><th>student</th><th class=num>score</th><th>status</th></tr>"
               + "".join(students) + "</table><p class=muted>Also here: gradebook.csv, class.json.</p></section>")
    capped = {name: s["captures_removed"] for name, s in data["scores"].items() if s.get("captures_removed")}
    if capped:
        out.append("<section><h2>Results over their cap</h2><p class=muted>These submissions' results passed the "
                   "cap of one submission; the largest captures were removed (the cases' feedback says so)."
                   "</p><table><tr><th>student</th><th>captures removed</th></tr>" + "".join(
                       f"<tr><td><a href=\"students/{_e(n)}/index.html\">{_e(n)}</a></td><td>{_e(', '.join(r))}"
                       f"</td></tr>" for n, r in sorted(capped.items())) + "</table></section>")
    if data["skipped_entries"]:
        out.append("<section><h2>Entries not graded</h2><table>" + "".join(
            f"<tr><td>{_e(s['entry'])}</td><td>{_e(s['why'])}</td></tr>" for s in data["skipped_entries"])
            + "</table></section>")
    return _page(f"{data['lab']} class report", "\n".join(out))


def student_page(student, results):
    """What the student would see in the terminal, as a page, with their
    captures and their ladder pages (STUDENT None: a single grade run's page)."""
    cases = results.get("cases", [])
    rows = "".join(
        f"<tr><td><a href=\"#{_e(c['name'])}\">{_e(c['name'])}</a></td><td class=num>{c['points']}/"
        f"{c['max_points']}</td><td><span class=\"badge {_e(c['status'])}\">"
        f"{_e(report.STATUS_WORDS.get(c['status'], c['status']))}</span> {_e(c['summary'])}</td></tr>"
        for c in cases)
    back = "<a href=\"../../index.html\">class report</a> · " if student else ""
    out = [f"<section><h1>{_e(student or results.get('submission', ''))} · {_e(results.get('lab', ''))}: "
           f"{results.get('score', 0)}/{results.get('max_score', '?')}</h1>"
           f"<p>{_e(report.headline(results)) if cases else ''}</p>"
           f"<p class=muted>{back}<a href=\"results.json\">results.json</a> · "
           f"<a href=\"build.log\">build.log</a> · <a href=\"captures/\">captures/</a></p></section>"]
    build = results.get("build", {})
    if build.get("feedback"):
        out.append(f"<section><h2>The submission did not build</h2><pre>{_e(build['feedback'])}</pre></section>")
    out.append(f"<section><table><tr><th>case</th><th class=num>points</th><th>result</th></tr>{rows}"
               f"</table></section>")
    for c in cases:
        if c["status"] == "passed" and not c.get("verdict"):
            continue
        ladder = (f"<a href=\"{_e(c['ladder'])}\">the connections, as a ladder</a> · "
                  if c.get("ladder") else "")
        capture = (f"<p>Capture: {ladder}<a href=\"{_e(c['capture'])}\">{_e(c['capture'])}</a></p>"
                   if c.get("capture") else "")
        verdict = f"<pre>{_e(chr(10).join(c['verdict']))}</pre>" if c.get("verdict") else ""
        feedback = f"<pre>{_e(c['feedback'])}</pre>" if c.get("feedback") else ""
        out.append(f"<section id=\"{_e(c['name'])}\"><h2>{_e(c['name'])} ({c['points']}/{c['max_points']})</h2>"
                   f"<p class=muted>{_e(c['title'])}</p>{feedback}{capture}{verdict}</section>")
    return _page(f"{student} · {results.get('lab', '')}", "\n".join(out))
