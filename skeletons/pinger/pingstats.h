/*
 * pingstats - the round-trip-time statistics that ping(8) prints:
 *
 *	rtt min/avg/max/mdev = 0.041/0.063/0.112/0.021 ms
 *
 * mdev is the standard deviation of the RTTs (how much they vary around
 * their average), computed like ping(8): sqrt(mean(rtt^2) - mean(rtt)^2).
 * A struct rtt_stats keeps running sums, so no list of RTTs is stored.
 */
#ifndef PINGSTATS_H
#define PINGSTATS_H

struct rtt_stats {
	unsigned long count; /* RTTs added */
	double min_ms;	     /* smallest, when count > 0 */
	double max_ms;	     /* largest, when count > 0 */
	double sum_ms;	     /* sum of the RTTs */
	double sum_sq_ms;    /* sum of their squares, for mdev */
};

/* Empties s. */
void rtt_stats_init(struct rtt_stats *s);

/* Adds one round-trip time, in milliseconds. */
void rtt_stats_add(struct rtt_stats *s, double rtt_ms);

/* Returns the average RTT (0 when there is none). */
double rtt_stats_avg(const struct rtt_stats *s);

/* Returns mdev, the standard deviation (0 when there is no RTT). */
double rtt_stats_mdev(const struct rtt_stats *s);

#endif
