"""socklab grader: runs student network programs against scripted peers,
captures the traffic and turns what happened into points and feedback."""

__version__ = "0.1.0"
