/* Static slot-overhead attribution of the memcg swap id array across the
 * kernels swapbench runs: a page-pointer map in vmalloc (up to 6.13: the
 * array is alloc_page'd, counted here), the array itself in vmalloc (6.14
 * to 6.18: already counted, never twice) and no swap_cgroup at all (7.x). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>

#include "workloads/kmem.h"

#define TIB_SLOTS 268435455.0 /* 1 TiB device: every page but the header */
#define G64_SLOTS 16777215.0

static void test_pointer_map_era(void **state)
{
	(void)state;
	/* 6.12, 1 TiB: a 1 MiB map stands for 2 B/slot of pages (512 MiB). */
	assert_int_equal(kmem_swap_cgroup_page_bytes(1 << 20, TIB_SLOTS, 4096),
			 536870912LL);
	/* 64 GiB: a 64 KiB map, 32 MiB of array; a partial page rounds up. */
	assert_int_equal(kmem_swap_cgroup_page_bytes(65536, G64_SLOTS, 4096), 33554432LL);
	assert_int_equal(kmem_swap_cgroup_page_bytes(4096, 40961.0, 4096), 86016LL);
}

static void test_vcalloc_era_not_counted_twice(void **state)
{
	(void)state;
	/* 6.18, 64 GiB: the 32 MiB array is itself the vmalloc area. */
	assert_int_equal(kmem_swap_cgroup_page_bytes(33558528LL, G64_SLOTS, 4096), 0);
	assert_int_equal(kmem_swap_cgroup_page_bytes(536875008LL, TIB_SLOTS, 4096), 0);
}

static void test_absent(void **state)
{
	(void)state;
	/* 7.x: no swap_cgroup_swapon area; also no swapon at all. */
	assert_int_equal(kmem_swap_cgroup_page_bytes(0, TIB_SLOTS, 4096), 0);
	assert_int_equal(kmem_swap_cgroup_page_bytes(-4096, TIB_SLOTS, 4096), 0);
	assert_int_equal(kmem_swap_cgroup_page_bytes(65536, 0, 4096), 0);
}

/* 7.3, 64 GiB swapon: meminfo Slab grew by 2 MiB (the 1.5 MiB cluster
 * array, an order-9 page-allocator kmalloc), slabinfo by nothing. */
static void test_large_kmalloc(void **state)
{
	json_t *d = json_loads("{\"meminfo\": {\"Slab\": 2125824, \"SUnreclaim\": 2097152},"
			       " \"slab\": {\"kmalloc-64\": 28672}}", 0, NULL);
	json_t *none = json_loads("{\"meminfo\": {\"Slab\": 8192},"
				  " \"slab\": {\"a\": 4096, \"b\": 4096}}", 0, NULL);

	(void)state;
	assert_non_null(d);
	assert_non_null(none);
	assert_int_equal(kmem_large_kmalloc(d), 2097152LL);
	assert_int_equal(kmem_large_kmalloc(none), 0);
	json_decref(d);
	json_decref(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pointer_map_era),
		cmocka_unit_test(test_vcalloc_era_not_counted_twice),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_large_kmalloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
