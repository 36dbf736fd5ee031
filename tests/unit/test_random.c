/* Unit tests for compat/random.c, libre's random functions drawn from a
 * pool of kernel randomness: linked in as in the daemon, its rand_u64()
 * and rand_bytes() are the ones called. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>

enum { DRAWS = 20000 };

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Many pools' worth of draws: no value twice, no pool handed out twice
 * or wiped before use (a zero would repeat). */
static void test_u64_draws_do_not_repeat(void **state)
{
	uint64_t *v = malloc(DRAWS * sizeof(*v));

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < DRAWS; i++)
		v[i] = rand_u64();
	qsort(v, DRAWS, sizeof(*v), cmp_u64);
	for (size_t i = 1; i < DRAWS; i++)
		assert_true(v[i] != v[i - 1]);
	free(v);
}

/* Mixed sizes across refills, small ones from the pool and a large one
 * straight from the kernel: every byte value turns up, and nothing is
 * written past the size asked for. */
static void test_bytes_of_every_size_are_filled(void **state)
{
	uint8_t buf[4096];
	size_t seen[256] = {0};

	(void)state;
	for (size_t n = 1; n <= 200; n++) {
		memset(buf, 0xa5, sizeof(buf));
		rand_bytes(buf, n);
		for (size_t i = 0; i < n; i++)
			++seen[buf[i]];
		for (size_t i = n; i < 256; i++)
			assert_int_equal(0xa5, buf[i]);
	}
	rand_bytes(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		++seen[buf[i]];
	for (int b = 0; b < 256; b++)
		assert_true(seen[b] > 0);
	rand_bytes(NULL, 8);   /* tolerated, as libre's */
}

/* A forked child must not hand out what the parent's pool still holds. */
static void test_fork_child_draws_differ(void **state)
{
	int fds[2], status;
	uint64_t parent, child = 0;
	pid_t pid;

	(void)state;
	(void)rand_u64();      /* the pool is filled now */
	assert_int_equal(0, pipe(fds));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint64_t v = rand_u64();
		_exit(write(fds[1], &v, sizeof(v)) == sizeof(v) ? 0 : 1);
	}
	parent = rand_u64();
	assert_int_equal(sizeof(child), read(fds[0], &child, sizeof(child)));
	assert_int_equal(pid, waitpid(pid, &status, 0));
	assert_int_equal(0, WEXITSTATUS(status));
	assert_true(child != parent);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_draws_do_not_repeat),
		cmocka_unit_test(test_bytes_of_every_size_are_filled),
		cmocka_unit_test(test_fork_child_draws_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
