/* One fuzzing entry for the host's parsers of untrusted input: the first
 * byte picks the target, the rest is the document.
 *   0  an experiment spec (spec_load from a file)
 *   1  a guest's result.json   (result_validate, guest)
 *   2  a final result.json     (result_validate, host-written)
 *   3  summary.json            (summary_validate)
 *   4  run.json                (run_validate)
 * Built two ways: with clang -fsanitize=fuzzer (scripts/fuzz.sh, the
 * bounded benchmark) and included by tests/unit/test_fuzz_corpus.c, which
 * replays the regression corpus (tests/data/fuzz/) under the normal and
 * the ASan/UBSan builds. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "harness/result.h"
#include "harness/spec.h"

enum { FUZZ_SPEC, FUZZ_GUEST_RESULT, FUZZ_FINAL_RESULT, FUZZ_SUMMARY, FUZZ_RUN, FUZZ_TARGETS };

static int fuzz_spec(const uint8_t *d, size_t n)
{
	static char path[64];
	struct spec s;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/sb-fuzz-spec-%d.json", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(d, 1, n, f);
	fclose(f);
	if (spec_load(path, &s) == 0) {
		/* What a run would check next. */
		spec_check_host(&s, 2, 24ULL << 30);
		spec_release(&s);
	}
	unlink(path);
	return 0;
}

int sb_fuzz_one(const uint8_t *data, size_t size)
{
	json_t *j;

	if (size < 1)
		return 0;
	if (data[0] % FUZZ_TARGETS == FUZZ_SPEC)
		return fuzz_spec(data + 1, size - 1);
	j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	switch (data[0] % FUZZ_TARGETS) {
	case FUZZ_GUEST_RESULT:
		result_validate(j, 0);
		break;
	case FUZZ_FINAL_RESULT:
		/* A valid final result must also index and print. */
		if (result_validate(j, 1) == 0) {
			json_t *cells = json_pack("[O]", j), *sum = summary_build(cells);

			if (summary_validate(sum))
				abort(); /* the host's own index must be valid */
			json_decref(sum);
			json_decref(cells);
		}
		break;
	case FUZZ_SUMMARY:
		if (summary_validate(j) == 0) {
			FILE *f = fopen("/dev/null", "w");

			summary_print(j, f);
			fclose(f);
		}
		break;
	case FUZZ_RUN:
		run_validate(j);
		break;
	}
	json_decref(j);
	sb_clearerr();
	return 0;
}

#ifdef SB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sb_fuzz_one(data, size);
}
#endif
