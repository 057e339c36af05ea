#!/bin/sh
# valgrind-leadrouted.sh - run the unsanitized daemon under valgrind memcheck.
# `make test-valgrind` points the integration tests' LEADROUTED_BIN here.
# Any memcheck error or definite leak makes the daemon exit 99 (and the
# test's stop fail); each process logs to LR_VALGRIND_DIR/logs/.

dir=${LR_VALGRIND_DIR:-build/valgrind}
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --num-callers=30 \
    --log-file="$dir/logs/valgrind-%p.log" "$dir/leadrouted" "$@"
