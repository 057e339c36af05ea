/*
 * resp.h - a Redis command in RESP, the protocol's array of bulk strings,
 * written into a buffer kept from one command to the next (rds.c's script
 * calls: a commit's command is hundreds of KB, and a fresh buffer each
 * time cost an mmap, its page faults and a munmap). The bytes are those
 * hiredis's redisFormatCommandArgv makes of the same arguments (checked
 * by tests/test_resp.c against it). Pure.
 */
#ifndef LR_RESP_H
#define LR_RESP_H

#include <stddef.h>

struct resp_buf {
	char *buf;
	size_t cap;
};

/* A buffer grown past this is freed by resp_trim. */
#define RESP_KEEP (512 * 1024)

/*
 * The command of nhead arguments head (lengths hlen) then argc more
 * (argv, lens) into r's buffer, grown as needed, NUL-terminated (hiredis
 * looks for the first argument with strchr). Its length without the NUL,
 * or 0 on ENOMEM (r is then empty).
 */
size_t resp_command(struct resp_buf *r, int nhead, const char *const *head,
    const size_t *hlen, int argc, char *const *argv, const size_t *lens);
/* Free r's buffer if it grew past RESP_KEEP (once its command is sent). */
void resp_trim(struct resp_buf *r);
void resp_free(struct resp_buf *r);

#endif
