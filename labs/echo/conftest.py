"""Lets the echo cases (visible and hidden) import echolib."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
