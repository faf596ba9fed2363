"""Hidden pinger cases (not in the student distribution)."""

from pinglib import PingRun, random_fates

SEED = 24684


def test_pinger_random_schedule_ipv6(case):
    run = PingRun(case, random_fates(SEED, 16), host="::1")
    run.run()
    run.check_transcript()
    run.check_statistics()
