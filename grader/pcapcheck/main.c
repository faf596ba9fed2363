/* main.c - pcapcheck: capture and judge the TCP and UDP traffic of socklab.
 *
 * Three commands: `capture` (live, for the grader), `analyze` (JSON for the
 * grader, a summary for TAs) and `inspect` (a per-connection timeline).
 * main() owns everything global: the stop flag set by SIGINT and SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "capture.h"
#include "heartbeat.h"
#include "report.h"
#include "report_html.h"
#include "report_search.h"

#define PCAPCHECK_VERSION "1.0.0"

enum {
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2
};

/* Set by SIGINT and SIGTERM: the capture loop stops, drains and exits. */
static volatile sig_atomic_t stop_requested;

static const char main_help[] =
	"NAME\n"
	"    pcapcheck - capture and judge the TCP and UDP traffic of socklab "
	"labs\n"
	"\n"
	"SYNOPSIS\n"
	"    pcapcheck capture -i IFACE -w FILE [-f FILTER] [-s SNAPLEN] [-c "
	"COUNT]\n"
	"    pcapcheck analyze FILE [--json] [HEARTBEAT OPTIONS] "
	"[--check-checksums]\n"
	"    pcapcheck inspect FILE [HEARTBEAT OPTIONS] [--check-checksums]\n"
	"    pcapcheck report FILE --html [-o OUT.html] [HEARTBEAT OPTIONS]\n"
	"                     [--check-checksums]\n"
	"    pcapcheck search FILE [--json] STRING...\n"
	"    pcapcheck COMMAND --help\n"
	"    pcapcheck --help | --version\n"
	"\n"
	"DESCRIPTION\n"
	"    The socklab grader records each test case with `capture` and "
	"judges\n"
	"    the recording with `analyze --json`. TAs read the same recording\n"
	"    with `analyze` (a summary per connection) or `inspect` (every\n"
	"    segment, as Wireshark lists them). Verdicts use Zeek's conn.log\n"
	"    vocabulary: conn_state (SF, REJ, RSTO, ...) and history letters.\n"
	"    --check-checksums verifies IPv4, TCP and UDP checksums as Zeek "
	"does\n"
	"    (off by default: loopback leaves them partial).\n"
	"\n"
	"COMMANDS\n"
	"    capture   record packets from an interface into a pcap file\n"
	"    analyze   summarise every TCP connection and UDP flow of a "
	"capture\n"
	"    inspect   list every segment of every connection, then its "
	"verdict\n"
	"    report    an HTML page for TAs: verdicts and a ladder diagram "
	"per\n"
	"              connection\n"
	"    search    where byte strings occur in each connection's payload,\n"
	"              and where each direction switches to TLS\n"
	"\n"
	"EXIT STATUS\n"
	"    0  success, also for a capture file cut off in the middle of a\n"
	"       packet (what came before is analysed, with a warning)\n"
	"    1  runtime failure: interface, filter or file problem, a file "
	"that\n"
	"       is not a capture, an unsupported link type\n"
	"    2  bad usage\n"
	"\n"
	"EXAMPLES\n"
	"    pcapcheck capture -i lo -w case.pcap -f 'tcp port 12000' &\n"
	"    pcapcheck analyze case.pcap --json\n"
	"    pcapcheck inspect case.pcap | less\n";

static const char capture_help[] =
	"NAME\n"
	"    pcapcheck capture - record packets from an interface into a pcap "
	"file\n"
	"\n"
	"SYNOPSIS\n"
	"    pcapcheck capture -i IFACE -w FILE [-f FILTER] [-s SNAPLEN] [-c "
	"COUNT]\n"
	"                      [--full-bytes N] [--max-bytes N]\n"
	"\n"
	"DESCRIPTION\n"
	"    Captures in immediate mode (no batching delay) with an 8 MiB "
	"kernel\n"
	"    buffer and writes every packet to FILE, flushing after each batch "
	"so\n"
	"    that FILE is a valid capture at any moment. Once the interface "
	"is\n"
	"    active and the filter installed it prints exactly one line to\n"
	"    standard error, which callers may wait for:\n"
	"\n"
	"        pcapcheck: capturing on IFACE (linktype NAME, snaplen N)\n"
	"\n"
	"    On SIGINT or SIGTERM it stops, writes every packet the kernel "
	"still\n"
	"    holds, closes FILE, prints\n"
	"\n"
	"        pcapcheck: N packets captured, M dropped by kernel\n"
	"\n"
	"    and exits with status 0. So does reaching COUNT packets. When the\n"
	"    byte budget cut the capture, one more line says how:\n"
	"\n"
	"        pcapcheck: budget: P packets kept as headers only after N "
	"bytes,\n"
	"        Q packets not written after M bytes\n"
	"\n"
	"OPTIONS\n"
	"    -i IFACE    interface to capture on, e.g. lo (required)\n"
	"    -w FILE     pcap file to write (required; replaced if it exists)\n"
	"    -f FILTER   BPF filter expression, e.g. 'tcp port 12000'\n"
	"    -s SNAPLEN  bytes kept of each packet, 1..262144 (default "
	"65792: a whole\n"
	"                loopback segment, 64 KiB of GSO plus headers; the "
	"kernel's\n"
	"                ring holds fewer packets the larger it is)\n"
	"    -c COUNT    stop after COUNT packets\n"
	"    --full-bytes N  once FILE holds N bytes, keep only the first 160 "
	"bytes\n"
	"                of each packet (its headers: lengths, flags and "
	"sequence\n"
	"                numbers stay right; payload checks see no more)\n"
	"    --max-bytes N   write nothing more once FILE would pass N bytes;\n"
	"                the packets are still counted\n"
	"\n"
	"EXIT STATUS\n"
	"    0 stopped by a signal or COUNT; 1 no such interface, no "
	"permission,\n"
	"    bad filter, FILE not writable; 2 bad usage.\n";

static const char analyze_help[] =
	"NAME\n"
	"    pcapcheck analyze - summarise the TCP connections and UDP flows "
	"of a capture\n"
	"\n"
	"SYNOPSIS\n"
	"    pcapcheck analyze FILE [--json] [--hb-request PREFIX --hb-reply "
	"PREFIX]\n"
	"                      [--hb-delim STR] [--event SECONDS=LABEL]...\n"
	"                      [--check-checksums]\n"
	"\n"
	"DESCRIPTION\n"
	"    Reads FILE (pcap or pcapng, micro- or nanosecond timestamps; "
	"link\n"
	"    types EN10MB, LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4, "
	"IPV6;\n"
	"    IPv4 and IPv6, also inside IP-in-IP, GRE, VXLAN, GTP-U and "
	"PPPoE\n"
	"    tunnels, counted per kind) and tracks every TCP connection by\n"
	"    its 4-tuple (a new SYN on a closed 4-tuple starts a new one) and\n"
	"    every UDP flow. IP\n"
	"    fragments are skipped and IPv6 extension headers walked over, "
	"with\n"
	"    a warning. Times are seconds since the first packet of the file.\n"
	"\n"
	"    Per TCP connection: Zeek's conn_state and history, the handshake "
	"and\n"
	"    its initial RTT, payload bytes each way (from sequence numbers, "
	"so\n"
	"    retransmissions count once and snaplen cuts do not matter), "
	"packets\n"
	"    and data segments, retransmissions, keep-alives, the teardown "
	"kind\n"
	"    (four-way-fin, simultaneous-close, half-close, "
	"reset-by-originator,\n"
	"    reset-by-responder, fin-unanswered, left-open) and who closed "
	"first,\n"
	"    Wireshark's tcp.completeness bits, and the first 64 bytes of the\n"
	"    reassembled payload each way. Per UDP flow: datagrams and bytes "
	"each\n"
	"    way, and requests answered or not.\n"
	"\n"
	"    conn_state (Zeek): S0 attempt, no reply; S1 established, not "
	"closed;\n"
	"    SF normal close; REJ rejected; S2/S3 only the "
	"originator/responder\n"
	"    closed; RSTO/RSTR originator/responder reset; RSTOS0 SYN then "
	"RST,\n"
	"    no SYN-ACK; RSTRH SYN-ACK then RST, no SYN; SH/SHR SYN (SYN-ACK)\n"
	"    then FIN; OTH midstream traffic.\n"
	"\n"
	"OPTIONS\n"
	"    --json   print JSON on standard output (the grader's format)\n"
	"    --hb-request PREFIX, --hb-reply PREFIX, --hb-delim STR\n"
	"             cut each direction's reassembled stream into messages "
	"at\n"
	"             STR (default \\n); a message starting with PREFIX is a\n"
	"             heartbeat request or reply, the rest its key. Adds\n"
	"             \"heartbeats\" and \"messages\" per TCP connection and a\n"
	"             heartbeats line to the summary. C escapes \\n \\r \\t "
	"\\\\ \\xHH\n"
	"             are understood, e.g. --hb-request 'HB ' --hb-reply "
	"'HBACK '\n"
	"    --event SECONDS=LABEL\n"
	"             a moment to show on the timeline (repeatable): SECONDS\n"
	"             since the epoch, as the capture's clock counts, e.g.\n"
	"             --event '1764000000.25=grader stopped tcpserver'. Each\n"
	"             side's first FIN or RST that came after a moment is\n"
	"             named with it: the kernel closes the sockets of a\n"
	"             program that was stopped, and that FIN is not the\n"
	"             program's own. FILE.events, when it exists, holds more\n"
	"             such lines (one SECONDS=LABEL per line); the grader\n"
	"             writes one beside each capture.\n"
	"    --check-checksums\n"
	"             verify the IPv4 header, TCP and UDP checksums, as Zeek\n"
	"             does: a packet with a bad IPv4 header checksum is\n"
	"             skipped; a TCP segment or UDP datagram with a bad one\n"
	"             is not counted (orig_pkts, orig_dgrams, ...) but\n"
	"             marked: its connection's history gets Zeek's 'C' ('c'\n"
	"             from the responder) at the 1st, 10th, 100th...,\n"
	"             *_bad_checksums count them, and a warning says how\n"
	"             many. Off by\n"
	"             default: loopback and offloading NICs leave checksums\n"
	"             partial, so use it on captures from a real network.\n"
	"             A packet cut by the snaplen cannot be checked: it\n"
	"             passes.\n"
	"\n"
	"EXIT STATUS\n"
	"    0 analysed (a file truncated mid-packet is analysed up to the cut "
	"and\n"
	"    reported with \"truncated\": true); 1 unreadable file, not a "
	"capture,\n"
	"    unsupported link type; 2 bad usage.\n";

static const char inspect_help[] =
	"NAME\n"
	"    pcapcheck inspect - list every segment of every connection of a "
	"capture\n"
	"\n"
	"SYNOPSIS\n"
	"    pcapcheck inspect FILE [--hb-request PREFIX --hb-reply PREFIX] "
	"[--hb-delim STR]\n"
	"                      [--event SECONDS=LABEL]... "
	"[--check-checksums]\n"
	"\n"
	"DESCRIPTION\n"
	"    For each TCP connection: a header, then one line per segment as\n"
	"    Wireshark's Info column shows it, with relative sequence numbers "
	"per\n"
	"    direction and a short preview of the payload,\n"
	"\n"
	"      0.000123  127.0.0.1:40000 → 127.0.0.1:12000  [SYN] Seq=0 "
	"Win=65495 Len=0\n"
	"\n"
	"    notes such as [TCP Retransmission] or [TCP Keep-Alive] in front "
	"of\n"
	"    the flags, and the verdict lines of `analyze` at the end. UDP "
	"flows\n"
	"    likewise, one line per datagram. With the heartbeat options of\n"
	"    `analyze`, a segment that completes a request or reply ends with\n"
	"    [HEARTBEAT key] or [HEARTBEAT REPLY key]. Each --event (and each\n"
	"    line of FILE.events) is a line of its own at its time, and a FIN\n"
	"    or RST after it says so; see `pcapcheck analyze --help`, also "
	"for\n"
	"    --check-checksums.\n"
	"\n"
	"EXIT STATUS\n"
	"    0 listed; 1 unreadable file, not a capture, unsupported link "
	"type;\n"
	"    2 bad usage.\n";

/* usage_error - report bad usage on stderr; returns the usage exit status. */
static int usage_error(const char *command, const char *problem,
		       const char *what)
{
	fprintf(stderr, "pcapcheck: %s%s\n", problem, what ? what : "");
	fprintf(stderr, "Try 'pcapcheck %s%s--help' for more information.\n",
		command ? command : "", command ? " " : "");
	return EXIT_USAGE;
}

/* show_help - print a help text on stdout; the exit status for it. */
static int show_help(const char *text)
{
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
		return EXIT_RUNTIME;
	return EXIT_SUCCESS;
}

/* wants_help - true if any argument after the command asks for help. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* parse_count - a decimal number in [min, max]; 0, or -1 if it is not one. */
static int parse_count(const char *s, unsigned long long min,
		       unsigned long long max, unsigned long long *out)
{
	if (s[0] < '0' || s[0] > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* on_stop_signal - ask the capture loop to stop (async-signal-safe). */
static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* catch_stop_signals - SIGINT and SIGTERM stop the capture; 0 or -1. */
static int catch_stop_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() must return when a signal comes. */
	sa.sa_flags = 0;
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		return -1;
	/* A reader of stderr that went away must not cost us the capture. */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

/* option_name - "-x" for option character c, written into name[3]. */
static const char *option_name(int c, char name[3])
{
	name[0] = '-';
	name[1] = (char)c;
	name[2] = '\0';
	return name;
}

/* parse_capture - the options of `capture`; 0, or the usage exit status. */
static int parse_capture(int argc, char **argv, struct capture_options *opt)
{
	unsigned long long n;
	char name[3];
	int ch;
	opterr = 0;
	optind = 1;
	static const struct option longs[] = {
		{"full-bytes", required_argument, NULL, 'F'},
		{"max-bytes", required_argument, NULL, 'M'},
		{NULL, 0, NULL, 0},
	};
	while ((ch = getopt_long(argc, argv, ":i:w:f:s:c:", longs, NULL)) !=
	       -1) {
		switch (ch) {
		case 'i':
			opt->iface = optarg;
			break;
		case 'w':
			opt->file = optarg;
			break;
		case 'f':
			opt->filter = optarg;
			break;
		case 's':
			if (parse_count(optarg, 1, CAPTURE_DEFAULT_SNAPLEN,
					&n) == -1)
				return usage_error(
					"capture",
					"snaplen must be 1..262144: ", optarg);
			opt->snaplen = (int)n;
			break;
		case 'c':
			if (parse_count(optarg, 1, UINT64_MAX, &n) == -1)
				return usage_error(
					"capture",
					"count must be a positive number: ",
					optarg);
			opt->max_packets = n;
			break;
		case 'F':
		case 'M':
			if (parse_count(optarg, 1, UINT64_MAX, &n) == -1)
				return usage_error(
					"capture",
					"a byte budget must be a positive number: ",
					optarg);
			*(ch == 'F' ? &opt->full_bytes : &opt->max_bytes) = n;
			break;
		case ':':
			return usage_error("capture", "option needs a value: ",
					   option_name(optopt, name));
		default:
			return usage_error("capture", "unknown option: ",
					   option_name(optopt, name));
		}
	}
	if (optind < argc)
		return usage_error("capture",
				   "unexpected argument: ", argv[optind]);
	if (opt->iface == NULL || opt->file == NULL)
		return usage_error("capture",
				   "capture needs -i IFACE and -w FILE", NULL);
	return 0;
}

/* cmd_capture - `pcapcheck capture ...`; the exit status. */
static int cmd_capture(int argc, char **argv)
{
	struct capture_options opt = {
		.snaplen = CAPTURE_DEFAULT_SNAPLEN,
	};
	int rc = parse_capture(argc, argv, &opt);
	if (rc != 0)
		return rc;
	if (catch_stop_signals() == -1) {
		fprintf(stderr, "pcapcheck: install signal handlers: %s\n",
			strerror(errno));
		return EXIT_RUNTIME;
	}
	char err[PCAP_ERRBUF_SIZE + 256];
	struct capture c;
	if (capture_open(&c, &opt, err, sizeof err) == -1) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		return EXIT_RUNTIME;
	}
	/* The readiness line: the grader starts the test case when it sees it. */
	fprintf(stderr,
		"pcapcheck: capturing on %s (linktype %s, snaplen %d)\n",
		opt.iface, capture_linktype(&c), capture_snaplen(&c));
	fflush(stderr);

	int status = EXIT_SUCCESS;
	if (capture_run(&c, &stop_requested, err, sizeof err) == -1) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		status = EXIT_RUNTIME;
	}
	uint64_t dropped;
	uint64_t captured = c.captured, cut = c.cut, unwritten = c.unwritten;
	if (capture_close(&c, &dropped, err, sizeof err) == -1) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		status = EXIT_RUNTIME;
	}
	fprintf(stderr,
		"pcapcheck: %llu packets captured, %llu dropped by kernel\n",
		(unsigned long long)captured, (unsigned long long)dropped);
	if (cut != 0 || unwritten != 0)
		fprintf(stderr,
			"pcapcheck: budget: %llu packets kept as headers only "
			"after %llu bytes, %llu packets not written after %llu "
			"bytes\n",
			(unsigned long long)cut,
			(unsigned long long)opt.full_bytes,
			(unsigned long long)unwritten,
			(unsigned long long)opt.max_bytes);
	return status;
}

/* The heartbeat options as given; NULL when absent. */
struct hb_args {
	const char *request, *reply, *delim;
};

/* hb_option - take --hb-request/--hb-reply/--hb-delim VALUE at argv[*i]:
 * 1 if it was one, 0 if not, -1 if its value is missing. */
static int hb_option(int argc, char **argv, int *i, struct hb_args *hb)
{
	const char **slot;
	if (strcmp(argv[*i], "--hb-request") == 0)
		slot = &hb->request;
	else if (strcmp(argv[*i], "--hb-reply") == 0)
		slot = &hb->reply;
	else if (strcmp(argv[*i], "--hb-delim") == 0)
		slot = &hb->delim;
	else
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*slot = argv[++*i];
	return 1;
}

/* event_option - take --event SECONDS=LABEL at argv[*i] into marks: 1 if
 * it was one, 0 if not, or the usage exit status (its value missing or
 * malformed). */
static int event_option(const char *command, int argc, char **argv, int *i,
			struct marks *marks)
{
	char err[256];
	if (strcmp(argv[*i], "--event") != 0)
		return 0;
	if (*i + 1 >= argc)
		return usage_error(command, "option needs a value: ", argv[*i]);
	if (marks_add(marks, argv[++*i], err, sizeof err) == -1)
		return usage_error(command, err, NULL);
	return 1;
}

/* read_sidecar - the marks of FILE.events, when there is such a file;
 * 0, or -1 after saying on stderr what is wrong with it. */
static int read_sidecar(const char *file, struct marks *marks)
{
	char path[4096], err[512];
	if (snprintf(path, sizeof path, "%s.events", file) >= (int)sizeof path)
		return 0;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0; /* no sidecar: nothing to add */
	int rc = marks_read(marks, f, path, err, sizeof err);
	(void)fclose(f);
	if (rc == -1)
		fprintf(stderr, "pcapcheck: %s\n", err);
	return rc;
}

/* make_matcher - the matcher the heartbeat options ask for, in m, and *out
 * pointing at it (NULL without options); 0 or the usage status. */
static int make_matcher(const char *command, const struct hb_args *hb,
			struct hb_matcher *m, const struct hb_matcher **out)
{
	char err[256];
	*out = NULL;
	if (hb->request == NULL && hb->reply == NULL && hb->delim == NULL)
		return 0;
	if (hb->request == NULL || hb->reply == NULL)
		return usage_error(command,
				   "--hb-request and --hb-reply go together",
				   NULL);
	if (hb_matcher_init(m, hb->request, hb->reply,
			    hb->delim ? hb->delim : HB_DEFAULT_DELIM, err,
			    sizeof err) == -1)
		return usage_error(command, err, NULL);
	*out = m;
	return 0;
}

/* The option that turns checksum verification on (see checksum.h). */
#define CHECKSUM_OPTION "--check-checksums"

/* parse_file_args - FILE, an optional --json and --check-checksums, the
 * heartbeat options, the events; 0 or the usage status. */
static int parse_file_args(const char *command, int argc, char **argv,
			   bool allow_json, const char **file, bool *json,
			   bool *checksums, struct hb_args *hb,
			   struct marks *marks)
{
	*file = NULL;
	*json = false;
	*checksums = false;
	for (int i = 1; i < argc; i++) {
		int taken = hb_option(argc, argv, &i, hb);
		if (taken == -1)
			return usage_error(command, "option needs a value: ",
					   argv[i]);
		if (taken == 1)
			continue;
		taken = event_option(command, argc, argv, &i, marks);
		if (taken == 1)
			continue;
		if (taken != 0)
			return taken;
		if (allow_json && strcmp(argv[i], "--json") == 0)
			*json = true;
		else if (strcmp(argv[i], CHECKSUM_OPTION) == 0)
			*checksums = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error(command,
					   "unknown option: ", argv[i]);
		else if (*file != NULL)
			return usage_error(
				command, "only one capture file, got another: ",
				argv[i]);
		else
			*file = argv[i];
	}
	if (*file == NULL)
		return usage_error(command, command, " needs a capture FILE");
	return 0;
}

/* warn_truncated - tell a person on stderr that the file was cut short. */
static void warn_truncated(const struct analysis *a)
{
	if (a->truncated)
		fprintf(stderr,
			"pcapcheck: warning: %s: file truncated after %llu "
			"packets (%s)\n",
			a->file, (unsigned long long)a->packets, a->read_error);
}

/* cmd_analyze - `pcapcheck analyze` and `inspect`; the exit status. */
static int cmd_analyze(const char *command, int argc, char **argv, bool inspect)
{
	const char *file;
	bool json, checksums;
	struct hb_args hb = {0};
	struct hb_matcher matcher;
	const struct hb_matcher *hb_on;
	struct marks marks = {0};
	int rc = parse_file_args(command, argc, argv, !inspect, &file, &json,
				 &checksums, &hb, &marks);
	if (rc == 0)
		rc = make_matcher(command, &hb, &matcher, &hb_on);
	if (rc != 0) {
		marks_free(&marks);
		return rc;
	}
	struct analysis_options opt = {
		.stream_limit = STREAM_DEFAULT_LIMIT,
		.stream_budget = TCP_DEFAULT_STREAM_BUDGET,
		.keep_events = inspect,
		.hb = hb_on,
		.marks = &marks,
		.check_checksums = checksums,
	};
	struct analysis a;
	char err[ANALYSIS_ERROR_MAX + PCAP_ERRBUF_SIZE];
	if (read_sidecar(file, &marks) == -1) {
		marks_free(&marks);
		return EXIT_RUNTIME;
	}
	if (analysis_read_file(&a, file, &opt, err, sizeof err) == -1) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		marks_free(&marks);
		return EXIT_RUNTIME;
	}
	warn_truncated(&a);
	if (inspect)
		rc = report_inspect(&a, stdout);
	else
		rc = json ? report_json(&a, stdout) : report_text(&a, stdout);
	analysis_free(&a);
	marks_free(&marks);
	if (rc == -1) {
		fprintf(stderr, "pcapcheck: write report: %s\n",
			strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_SUCCESS;
}

static const char report_help[] =
	"NAME\n"
	"    pcapcheck report - an HTML page of a capture for TAs\n"
	"\n"
	"SYNOPSIS\n"
	"    pcapcheck report FILE --html [-o OUT.html]\n"
	"                     [--hb-request PREFIX --hb-reply PREFIX] "
	"[--hb-delim STR]\n"
	"                     [--event SECONDS=LABEL]... [--check-checksums]\n"
	"\n"
	"DESCRIPTION\n"
	"    Writes one self-contained page (inline CSS and SVG, no "
	"scripts):\n"
	"    the capture's facts and warnings, a note on reading conn_state "
	"and\n"
	"    history, a table of every TCP connection and UDP flow with its\n"
	"    verdict, and a ladder diagram per connection and flow: client "
	"on\n"
	"    the left, server on the right, one arrow per segment with its\n"
	"    flags, relative Seq/Ack, Len and payload, its time on the left.\n"
	"    Handshake, FINs, RSTs, retransmissions, keep-alives and "
	"heartbeats\n"
	"    have their own colours. A ladder stops after 2000 arrows and "
	"says\n"
	"    how many it left out. FILE is read as by `analyze`, and the\n"
	"    heartbeat, --event and --check-checksums options are those of\n"
	"    `analyze`: each event\n"
	"    is a dashed line across the ladder at its time, and a FIN or RST\n"
	"    that came after one says so in the connection's facts.\n"
	"\n"
	"OPTIONS\n"
	"    --html        the format (the only one so far; required)\n"
	"    -o OUT.html   write the page there, through a temporary file\n"
	"                  renamed over it; default: standard output\n"
	"\n"
	"EXIT STATUS\n"
	"    0 written; 1 unreadable file, not a capture, unsupported link "
	"type,\n"
	"    OUT.html not writable; 2 bad usage.\n";

/* The arguments of `report`, as given. */
struct report_args {
	const char *file, *output;
	bool html, checksums;
	struct hb_args hb;
	struct marks marks;
};

/* parse_report - the arguments of `report`; 0, or the usage exit status. */
static int parse_report(int argc, char **argv, struct report_args *r)
{
	for (int i = 1; i < argc; i++) {
		int taken = hb_option(argc, argv, &i, &r->hb);
		bool output = strcmp(argv[i], "-o") == 0;
		if (taken == -1 || (output && i + 1 >= argc))
			return usage_error("report",
					   "option needs a value: ", argv[i]);
		if (taken == 1)
			continue;
		taken = event_option("report", argc, argv, &i, &r->marks);
		if (taken == 1)
			continue;
		if (taken != 0)
			return taken;
		if (output)
			r->output = argv[++i];
		else if (strcmp(argv[i], "--html") == 0)
			r->html = true;
		else if (strcmp(argv[i], CHECKSUM_OPTION) == 0)
			r->checksums = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("report",
					   "unknown option: ", argv[i]);
		else if (r->file != NULL)
			return usage_error(
				"report",
				"only one capture file, got another: ",
				argv[i]);
		else
			r->file = argv[i];
	}
	if (r->file == NULL)
		return usage_error("report", "report needs a capture FILE",
				   NULL);
	if (!r->html)
		return usage_error("report", "report needs a format: --html",
				   NULL);
	return 0;
}

/* write_report - the page to r->output or stdout; 0, or -1 with err set. */
static int write_report(const struct analysis *a, const struct report_args *r,
			char *err, size_t errlen)
{
	struct html_options html = {.max_arrows = HTML_DEFAULT_MAX_ARROWS};
	if (r->output != NULL)
		return report_html_file(a, &html, r->output, err, errlen);
	if (report_html(a, &html, stdout) == -1) {
		(void)snprintf(err, errlen, "write report: %s",
			       strerror(errno));
		return -1;
	}
	return 0;
}

/* cmd_report - `pcapcheck report FILE --html ...`; the exit status. */
static int cmd_report(int argc, char **argv)
{
	struct report_args r = {0};
	struct hb_matcher matcher;
	const struct hb_matcher *hb_on;
	int rc = parse_report(argc, argv, &r);
	if (rc == 0)
		rc = make_matcher("report", &r.hb, &matcher, &hb_on);
	if (rc == 0 && read_sidecar(r.file, &r.marks) == -1)
		rc = EXIT_RUNTIME;
	if (rc != 0) {
		marks_free(&r.marks);
		return rc;
	}
	struct analysis_options opt = {
		.stream_limit = STREAM_DEFAULT_LIMIT,
		.stream_budget = TCP_DEFAULT_STREAM_BUDGET,
		.keep_events = true, /* the ladders draw every segment */
		.hb = hb_on,
		.marks = &r.marks,
		.check_checksums = r.checksums,
	};
	struct analysis a;
	char err[ANALYSIS_ERROR_MAX + PCAP_ERRBUF_SIZE];
	if (analysis_read_file(&a, r.file, &opt, err, sizeof err) == -1) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		marks_free(&r.marks);
		return EXIT_RUNTIME;
	}
	warn_truncated(&a);
	rc = write_report(&a, &r, err, sizeof err);
	analysis_free(&a);
	marks_free(&r.marks);
	if (rc == -1) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		return EXIT_RUNTIME;
	}
	return EXIT_SUCCESS;
}

static const char search_help[] =
	"NAME\n"
	"    pcapcheck search - byte strings in TCP payloads, before and "
	"after TLS\n"
	"\n"
	"SYNOPSIS\n"
	"    pcapcheck search FILE [--json] STRING...\n"
	"\n"
	"DESCRIPTION\n"
	"    Looks for each STRING in both directions of every TCP "
	"connection\n"
	"    of FILE, in the reassembled stream (retransmitted bytes count "
	"once;\n"
	"    a string split across segments is found; up to 64 MiB per\n"
	"    direction). For each direction it reports where TLS starts: the\n"
	"    first TLS handshake record (ClientHello from the client,\n"
	"    ServerHello from the server) at byte 0 or just after a '\\n', "
	"as\n"
	"    after SMTP's STARTTLS. For each string: how many times it "
	"occurs,\n"
	"    how many of those are after the TLS start (sent in clear where\n"
	"    everything should have been encrypted), and the first 16 "
	"offsets\n"
	"    with the time of the segment that carried each. STRING "
	"understands\n"
	"    the C escapes \\r \\n \\t \\\\ \\xHH; at most 64 "
	"strings of 256\n"
	"    bytes.\n"
	"\n"
	"OPTIONS\n"
	"    --json   print JSON on standard output (the grader's format)\n"
	"    --       every later argument is a STRING, even if it starts "
	"with -\n"
	"\n"
	"EXAMPLES\n"
	"    pcapcheck search smtp.pcap 'MAIL FROM:' 'AUTH ' 'hunter2'\n"
	"    pcapcheck search smtp.pcap --json 'QUIT\\r\\n'\n"
	"\n"
	"EXIT STATUS\n"
	"    0 searched (found or not); 1 unreadable file, not a capture,\n"
	"    unsupported link type; 2 bad usage.\n";

/* The arguments of `search`, as given. */
struct search_args {
	const char *file;
	bool json;
	struct search_string strings[SEARCH_MAX_STRINGS];
	size_t nstrings;
};

/* add_search_string - one STRING argument into r; 0 or the usage status. */
static int add_search_string(struct search_args *r, const char *text)
{
	char err[512];
	if (r->nstrings == SEARCH_MAX_STRINGS)
		return usage_error("search", "too many strings (at most 64), "
					     "starting with: ",
				   text);
	if (search_parse_string(&r->strings[r->nstrings], text, err,
				sizeof err) == -1)
		return usage_error("search", err, NULL);
	r->nstrings++;
	return 0;
}

/* parse_search - FILE, --json, the strings; 0 or the usage status. */
static int parse_search(int argc, char **argv, struct search_args *r)
{
	bool options = true;
	for (int i = 1; i < argc; i++) {
		int rc = 0;
		if (options && strcmp(argv[i], "--") == 0)
			options = false;
		else if (options && strcmp(argv[i], "--json") == 0)
			r->json = true;
		else if (options && argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("search", "unknown option: ",
					   argv[i]);
		else if (r->file == NULL)
			r->file = argv[i];
		else
			rc = add_search_string(r, argv[i]);
		if (rc != 0)
			return rc;
	}
	if (r->file == NULL)
		return usage_error("search", "search needs a capture FILE",
				   NULL);
	if (r->nstrings == 0)
		return usage_error("search", "search needs at least one STRING",
				   NULL);
	return 0;
}

/* cmd_search - `pcapcheck search FILE [--json] STRING...`; the exit status. */
static int cmd_search(int argc, char **argv)
{
	struct search_args r = {0};
	int rc = parse_search(argc, argv, &r);
	if (rc != 0)
		return rc;
	struct analysis_options opt = {
		.stream_limit = SEARCH_STREAM_LIMIT,
		.stream_budget = TCP_DEFAULT_STREAM_BUDGET,
		.keep_events = true, /* the time of each offset */
	};
	struct analysis a;
	char err[ANALYSIS_ERROR_MAX + PCAP_ERRBUF_SIZE];
	if (analysis_read_file(&a, r.file, &opt, err, sizeof err) == -1) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		return EXIT_RUNTIME;
	}
	warn_truncated(&a);
	rc = r.json ? report_search_json(&a, r.strings, r.nstrings, stdout)
		    : report_search_text(&a, r.strings, r.nstrings, stdout);
	analysis_free(&a);
	if (rc == -1) {
		fprintf(stderr, "pcapcheck: write report: %s\n",
			strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error(
			NULL,
			"missing command (capture, analyze, inspect, report or "
			"search)",
			NULL);
	const char *command = argv[1];
	if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0)
		return show_help(main_help);
	if (strcmp(command, "--version") == 0) {
		printf("pcapcheck %s (%s)\n", PCAPCHECK_VERSION,
		       pcap_lib_version());
		return EXIT_SUCCESS;
	}
	if (strcmp(command, "capture") == 0)
		return wants_help(argc - 1, argv + 1)
			       ? show_help(capture_help)
			       : cmd_capture(argc - 1, argv + 1);
	if (strcmp(command, "analyze") == 0)
		return wants_help(argc - 1, argv + 1)
			       ? show_help(analyze_help)
			       : cmd_analyze(command, argc - 1, argv + 1,
					     false);
	if (strcmp(command, "inspect") == 0)
		return wants_help(argc - 1, argv + 1)
			       ? show_help(inspect_help)
			       : cmd_analyze(command, argc - 1, argv + 1, true);
	if (strcmp(command, "report") == 0)
		return wants_help(argc - 1, argv + 1)
			       ? show_help(report_help)
			       : cmd_report(argc - 1, argv + 1);
	if (strcmp(command, "search") == 0)
		return wants_help(argc - 1, argv + 1)
			       ? show_help(search_help)
			       : cmd_search(argc - 1, argv + 1);
	return usage_error(NULL, "unknown command: ", command);
}
