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
