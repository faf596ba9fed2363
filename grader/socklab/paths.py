"""Where the kit's pieces live, relative to this package."""

import os

GRADER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(GRADER)
LABS = os.path.join(ROOT, "labs")
SOLUTIONS = os.path.join(ROOT, "solutions")
SKELETONS = os.path.join(ROOT, "skeletons")
SLRUN = os.path.join(GRADER, "sandbox", "slrun")
SLFAULT = os.path.join(GRADER, "sandbox", "slfault.so")   # fault injection (LD_PRELOAD)
PCAPCHECK = os.path.join(GRADER, "pcapcheck", "pcapcheck")
PYTHON = "/usr/bin/python3"

# The grading process's own temporary folder (made by the plugin, removed when
# the run ends); None outside a grading run: the system's.
SESSION_TMP_VAR = "SOCKLAB_SESSION_TMP"

# More folders that student processes must not see, os.pathsep-separated
# (grade and a class run name their results and submissions folders).
HIDE_VAR = "SOCKLAB_HIDE"


def session_tmp():
    return os.environ.get(SESSION_TMP_VAR)
