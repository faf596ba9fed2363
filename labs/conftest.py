"""Makes `pytest labs/<lab>` a grading run: the socklab plugin's fixtures
(case, socklab_env) and hooks come from grader/socklab/plugin.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "grader"))
from socklab.plugin import *  # noqa: E402,F401,F403  (fixtures and hooks)
