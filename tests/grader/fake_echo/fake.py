"""What the four fake echo programs share: logs, usage, ports, addresses."""
import sys
import time

USAGE = "Usage: {} (a fake echo program for the grader's own tests)\n"


def log(prog, level, text):
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {level} {prog}: {text}", file=sys.stderr, flush=True)


def usage(prog, args, nmin, nmax):
    """Handle -h/--help and a wrong argument count; return the arguments."""
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE.format(prog)); sys.exit(0)
    if any(a.startswith("-") and a != "-W" for a in args) or not nmin <= len(args) <= nmax:
        bad(prog, "bad arguments")
    return args


def bad(prog, why):
    log(prog, "ERROR", why); sys.stderr.write(USAGE.format(prog)); sys.exit(2)


def port(prog, text):
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        bad(prog, f"bad port {text}")
    return int(text)


def addr(a):
    host = a[0][7:] if a[0].startswith("::ffff:") else a[0]
    return f"[{host}]:{a[1]}" if ":" in host else f"{host}:{a[1]}"
