/*
 * pingstats - round-trip-time statistics (see pingstats.h).
 */
#include "pingstats.h"

#include <math.h>

#include "sl_log.h"

void rtt_stats_init(struct rtt_stats *s)
{
	*s = (struct rtt_stats){.count = 0};
}

void rtt_stats_add(struct rtt_stats *s, double rtt_ms)
{
	/* BLANK 10: Count the RTT, keep the smallest and the largest (the first RTT is both), and add it to sum_ms and its square to sum_sq_ms. */
	if (s->count == 0 || rtt_ms < s->min_ms)
		s->min_ms = rtt_ms;
	if (s->count == 0 || rtt_ms > s->max_ms)
		s->max_ms = rtt_ms;
	s->count++;
	s->sum_ms += rtt_ms;
	s->sum_sq_ms += rtt_ms * rtt_ms;
	/* SKELETON 10:
	(void)s;
	(void)rtt_ms;
	SL_TODO(10);
	*/
	/* END 10 */
}

double rtt_stats_avg(const struct rtt_stats *s)
{
	return s->count == 0 ? 0.0 : s->sum_ms / (double)s->count;
}

double rtt_stats_mdev(const struct rtt_stats *s)
{
	double avg = rtt_stats_avg(s), var;

	if (s->count == 0)
		return 0.0;
	var = s->sum_sq_ms / (double)s->count - avg * avg;
	/* Rounding can make a zero variance slightly negative. */
	return var > 0.0 ? sqrt(var) : 0.0;
}
