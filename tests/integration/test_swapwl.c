/* Integration tests of the swapoff, slot-overhead and mthp workloads on
 * Debian kernels under qemu: each asserts what the guest really did and
 * properties of the numbers that can be known from the kernel source.
 * Usage: test_swapwl [TEST]; env SB_BIN, SB_SPECS as for test_vm. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/it-util.h"

static void assert_ok(json_t *res)
{
	if (strcmp(json_string_value(json_object_get(res, "status")), "ok"))
		fail_msg("cell %s: %s: %s", json_string_value(json_object_get(res, "cell_id")),
			 json_string_value(json_object_get(res, "status")),
			 json_string_value(json_object_get(res, "error")) ?: "");
}

/* 64 MB held in swap by a process; swapoff of each device brings it back
 * intact (the workload verifies every page, else the cell fails). */
static void test_swapoff(void **state)
{
	static const char *const topos[] = { "zram", "zswap-nvme", "nvme" };
	struct it_run r = it_run_spec("swapoff.json", "swapoff");

	assert_int_equal(r.exit_code, 0);
	for (int t = 0; t < 3; t++) {
		char cell[128];
		json_t *res, *devs;

		snprintf(cell, sizeof(cell), "6.12--%s--swapoff--1", topos[t]);
		res = it_cell_result(&r, cell);
		assert_ok(res);
		assert_true(it_metric(res, "swapped_mb") > 60);
		assert_true(it_metric(res, "swapoff_time") > 0);
		assert_true(it_metric(res, "swapoff_rate") > 0);
		devs = json_object_get(json_object_get(res, "workload_info"), "devices");
		assert_true(json_array_size(devs) >= 1);
		/* The device really held the data before swapoff. */
		assert_true(json_integer_value(json_object_get(json_array_get(devs, 0),
							       "used_bytes")) > (32 << 20));
		/* And nothing is left in swap after it. */
		assert_int_equal(json_array_size(json_object_get(res, "swaps_after")), 0);
		json_decref(res);
	}
	it_run_release(&r);
}

static json_t *static_info(json_t *res)
{
	return json_object_get(json_object_get(res, "workload_info"), "static");
}

static double vmalloc_caller(json_t *res, const char *caller)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(static_info(res), "components"),
					   "vmalloc_by_caller"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")), caller))
			return json_number_value(json_object_get(c, "bytes_per_slot"));
	return 0;
}

/* Static overhead of a 64 GiB swapon on 6.12, from the source: swap_map is
 * one byte per slot (vmalloc'ed by swapon), the memcg swap id array two
 * (pages of swap_cgroup), cluster info a fraction. Booting with
 * cgroup_disable=memory must remove exactly the two bytes of swap_cgroup. */
static void test_slot_static(void **state)
{
	struct it_run a = it_run_spec("slot-static.json", "slot-static");
	struct it_run b = it_run_spec("slot-static-nomemcg.json", "slot-static-nomemcg");
	json_t *with, *without;
	double w, wo;

	assert_int_equal(a.exit_code, 0);
	assert_int_equal(b.exit_code, 0);
	with = it_cell_result(&a, "6.12--nvme-64g--static--1");
	without = it_cell_result(&b, "6.12--nvme-64g--static--1");
	assert_ok(with);
	assert_ok(without);
	w = it_metric(with, "static_bytes_per_slot");
	wo = it_metric(without, "static_bytes_per_slot");
	print_message("static bytes/slot: %.3f with memcg, %.3f without\n", w, wo);
	assert_true(json_number_value(json_object_get(static_info(with), "slots")) > 16e6);
	assert_true(fabs(vmalloc_caller(with, "__do_sys_swapon") - 1.0) < 0.05);
	assert_true(w > 2.8 && w < 3.6);
	assert_true(fabs((w - wo) - 2.0) < 0.3);
	/* The swap_cgroup map array is vmalloc'ed only when memcg is on. */
	assert_true(vmalloc_caller(with, "swap_cgroup_swapon") > 0);
	assert_true(vmalloc_caller(without, "swap_cgroup_swapon") == 0);
	json_decref(with);
	json_decref(without);
	it_run_release(&a);
	it_run_release(&b);
}

/* The swap-table era on Debian's 7.3: no swap_map and no swap_cgroup array,
 * so a 64 GiB swapon costs only the cluster array (kvzalloc'ed by swapon:
 * 48 bytes per 512-slot cluster, 1.5 MiB here, small enough for kmalloc's
 * page allocator path, so not in vmallocinfo (at 1 TiB it is) but in
 * meminfo's Slab: attributed as kmalloc_large) and the tables of the
 * clusters that hold bad slots; and zswap in front comes up,
 * its zpool key recorded as not applied (7.x: zsmalloc only). */
static void test_slot_static_7x(void **state)
{
	struct it_run r = it_run_spec("slot-static-7.3.json", "slot-static-7.3");
	json_t *plain, *zs, *attr, *zinfo;
	double w;

	assert_int_equal(r.exit_code, 0);
	plain = it_cell_result(&r, "7.3--nvme-64g--static--1");
	zs = it_cell_result(&r, "7.3--zswap-nvme-64g--static--1");
	assert_ok(plain);
	assert_ok(zs);
	w = it_metric(plain, "static_bytes_per_slot");
	print_message("7.3 static bytes/slot: %.4f (vmalloc %.4f)\n", w,
		      vmalloc_caller(plain, "__do_sys_swapon"));
	assert_true(json_number_value(json_object_get(static_info(plain), "slots")) > 16e6);
	/* 6.12 on the same device: 3.2 B/slot. */
	assert_true(w > 0.05 && w < 0.5);
	assert_true(vmalloc_caller(plain, "swap_cgroup_swapon") == 0);
	assert_true(vmalloc_caller(plain, "__do_sys_swapon") < 0.2);
	attr = json_object_get(static_info(plain), "attributed");
	assert_true(json_integer_value(json_object_get(attr, "swap_tables")) > 0);
	assert_true(json_integer_value(json_object_get(attr, "swap_cgroup_pages")) == 0);
	assert_true(json_integer_value(json_object_get(attr, "kmalloc_large")) >= 1 << 20);
	assert_true(it_metric(plain, "static_attributed_share") > 90);
	zinfo = json_object_get(json_object_get(zs, "topology_info"), "zswap");
	assert_non_null(zinfo);
	assert_string_equal(json_string_value(json_object_get(zinfo, "enabled")), "Y");
	/* The topology asks for zpool zsmalloc: 7.3 has no such parameter. */
	assert_string_equal(json_string_value(json_array_get(json_object_get(zinfo, "absent"), 0)),
			    "zpool");
	assert_string_equal(json_string_value(json_object_get(json_object_get(zinfo,
			    "not_applied"), "zpool")), "zsmalloc");
	json_decref(plain);
	json_decref(zs);
	it_run_release(&r);
}

static double slab_per_slot(json_t *res, const char *cache)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(json_object_get(json_object_get(
		res, "workload_info"), "dynamic"), "components"), "slab_by_cache"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")), cache))
			return json_number_value(json_object_get(c, "bytes_per_slot"));
	return 0;
}

/* Dynamic overhead per used slot: on plain NVMe only the swap cache's
 * xarray nodes (holding workingset shadow entries) grow, so the total is the
 * radix_tree_node delta; zswap keeps one zswap_entry per stored page. */
static void test_slot_dynamic(void **state)
{
	struct it_run r = it_run_spec("slot-dynamic.json", "slot-dynamic");
	json_t *plain, *zs, *dyn, *objs;
	double slots;

	assert_int_equal(r.exit_code, 0);
	plain = it_cell_result(&r, "6.12--nvme-64g--dynamic--1");
	zs = it_cell_result(&r, "6.12--zswap-nvme-64g--dynamic--1");
	assert_ok(plain);
	assert_ok(zs);
	print_message("dynamic bytes/slot: nvme %.2f, zswap %.2f\n",
		      it_metric(plain, "dynamic_bytes_per_slot"), it_metric(zs, "dynamic_bytes_per_slot"));
	assert_true(fabs(it_metric(plain, "dynamic_bytes_per_slot") -
			 slab_per_slot(plain, "radix_tree_node")) < 8);
	assert_true(it_metric(plain, "dynamic_bytes_per_slot") < 30);
	assert_true(it_metric(plain, "stored_bytes_per_slot") == 0);
	/* At least the zswap_entry (56 B on 6.12) more than plain swap. */
	assert_true(it_metric(zs, "dynamic_bytes_per_slot") -
		    it_metric(plain, "dynamic_bytes_per_slot") > 45);
	assert_true(it_metric(zs, "dynamic_bytes_per_slot") < 200);
	assert_true(fabs(slab_per_slot(zs, "zswap_entry") - 56) < 9);
	/* Compressed data is reported apart, and is less than a page. */
	assert_true(it_metric(zs, "stored_bytes_per_slot") > 100);
	assert_true(it_metric(zs, "stored_bytes_per_slot") < 4096);
	dyn = json_object_get(json_object_get(zs, "workload_info"), "dynamic");
	slots = json_number_value(json_object_get(dyn, "slots_used"));
	objs = json_object_get(dyn, "slab_objects");
	assert_true(slots >= 32000);
	assert_true(fabs(json_integer_value(json_object_get(objs, "zswap_entry")) - slots) <
		    0.02 * slots);
	json_decref(plain);
	json_decref(zs);
	it_run_release(&r);
}

/* mTHP: 6.12 swaps 256 kB folios out whole; 6.1 has no per-size controls,
 * so its cell is skipped with the reason, and the run exits 4. */
static void test_mthp(void **state)
{
	struct it_run r = it_run_spec("mthp.json", "mthp");
	json_t *res;

	assert_int_equal(r.exit_code, 4);
	res = it_cell_result(&r, "6.12--zram--mthp--1");
	assert_ok(res);
	assert_true(it_metric(res, "swpout_256kB") > 0);
	assert_true(it_metric(res, "fallback_ratio_256kB") <= 100);
	assert_true(it_metric(res, "swapout_bw") > 0);
	/* The agent's own counters agree with the workload's reading. */
	assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(
		json_object_get(json_object_get(res, "counters"), "mthp"), "delta"), "256kB"),
		"swpout")) == (json_int_t)it_metric(res, "swpout_256kB"));
	json_decref(res);
	res = it_cell_result(&r, "6.1--zram--mthp--1");
	assert_string_equal(json_string_value(json_object_get(res, "status")), "skipped");
	assert_non_null(strstr(json_string_value(json_object_get(res, "error")),
			       "no per-size mTHP"));
	json_decref(res);
	it_run_release(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swapoff),
		cmocka_unit_test(test_slot_static),
		cmocka_unit_test(test_slot_static_7x),
		cmocka_unit_test(test_slot_dynamic),
		cmocka_unit_test(test_mthp),
	};

	return it_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
