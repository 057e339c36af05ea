/* fuzz_redir.c - libFuzzer target: any bytes through redir_parse and redir_switch_master. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "redir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char host[REDIR_HOST_MAX + 1];
	enum redir_kind kind;
	int port = 0;

	kind = redir_parse(s, size, host, &port);
	if (kind == REDIR_MOVED || kind == REDIR_ASK) {
		/* A node: a non-empty host without NUL or space, a port. */
		FUZZ_CHECK(port >= 1 && port <= 65535);
		FUZZ_CHECK(strlen(host) >= 1 && strlen(host) <= REDIR_HOST_MAX);
		FUZZ_CHECK(strchr(host, ' ') == NULL);
	}
	port = 0;
	if (redir_switch_master(s, size, "lr", host, &port) == 0) {
		size_t at = 0;

		/* About master "lr": its first word. */
		while (at < size && s[at] == ' ')
			at++;
		FUZZ_CHECK(at + 3 <= size && memcmp(s + at, "lr ", 3) == 0);
		FUZZ_CHECK(port >= 1 && port <= 65535);
		FUZZ_CHECK(strlen(host) >= 1 && strlen(host) <= REDIR_HOST_MAX);
	}
	return 0;
}
