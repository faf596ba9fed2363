# sources.mk - pcapcheck's sources, shared with the unit tests (tests/pcapcheck).
# Everything but main.c is linked into the test programs as well.
PCAPCHECK_LIB_SRCS = analysis.c array.c capture.c decode.c flow.c flowtable.c heartbeat.c json.c \
                     report_html.c report_inspect.c report_json.c report_text.c stream.c tcp.c \
                     textfmt.c udp.c zeek.c search.c report_search.c marks.c checksum.c
