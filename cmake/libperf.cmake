# libperf (tools/lib/perf of the kernel source) as a static library.
#
# Debian 12 does not package libperf, so it is compiled from the kernel
# source that scripts/setup.sh installs for kernel builds anyway
# (linux-source-6.12). Only the few directories libperf needs are unpacked
# (~1.5 min of xz on 2 cores), once per machine into swapbench's cache
# ($XDG_CACHE_HOME/swapbench/libperf-src/<hash of the tarball's path and
# mtime>), so every build directory (build, build-asan) shares them and a
# new linux-source package unpacks again.
# -DSWAPBENCH_LINUX_SOURCE=PATH takes another tarball (.tar.xz) or an
# unpacked tree.

set(SWAPBENCH_LINUX_SOURCE "/usr/src/linux-source-6.12.tar.xz" CACHE PATH
    "Kernel source (tarball or tree) whose tools/lib/perf provides libperf")

if(NOT EXISTS "${SWAPBENCH_LINUX_SOURCE}")
  message(FATAL_ERROR
    "libperf: kernel source '${SWAPBENCH_LINUX_SOURCE}' not found.\n"
    "swapbench builds libperf from tools/lib/perf of the kernel source: install it with "
    "scripts/setup.sh (Debian package linux-source-6.12), or point "
    "-DSWAPBENCH_LINUX_SOURCE= at another linux-*.tar.xz or an unpacked tree.")
endif()

if(IS_DIRECTORY "${SWAPBENCH_LINUX_SOURCE}")
  set(_lp_root "${SWAPBENCH_LINUX_SOURCE}")
  if(NOT EXISTS "${_lp_root}/tools/lib/perf/evsel.c")
    message(FATAL_ERROR "libperf: '${_lp_root}' has no tools/lib/perf/evsel.c; "
                        "is it a Linux source tree?")
  endif()
else()
  if(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(_lp_cache "$ENV{XDG_CACHE_HOME}/swapbench/libperf-src")
  else()
    set(_lp_cache "$ENV{HOME}/.cache/swapbench/libperf-src")
  endif()
  file(TIMESTAMP "${SWAPBENCH_LINUX_SOURCE}" _lp_mtime "%s" UTC)
  string(SHA256 _lp_key "${SWAPBENCH_LINUX_SOURCE} ${_lp_mtime}")
  string(SUBSTRING ${_lp_key} 0 16 _lp_key)
  set(_lp_root ${_lp_cache}/${_lp_key})
  if(NOT EXISTS ${_lp_root}/tools/lib/perf/evsel.c)
    message(STATUS "libperf: unpacking tools/lib/perf from ${SWAPBENCH_LINUX_SOURCE} "
                   "into ${_lp_root} (once per machine)")
    # Into a private directory, then renamed: a concurrent configure or an
    # interrupted one never leaves a half tree under the final name.
    string(RANDOM LENGTH 8 _lp_rand)
    set(_lp_tmp ${_lp_cache}/.tmp-${_lp_rand})
    file(MAKE_DIRECTORY ${_lp_tmp})
    execute_process(
      COMMAND tar -xJf "${SWAPBENCH_LINUX_SOURCE}" --strip-components=1 --wildcards
              "*/tools/lib/perf/*" "*/tools/lib/api/fd/*" "*/tools/lib/zalloc.c"
              "*/tools/include/*" "*/tools/arch/x86/include/*"
      WORKING_DIRECTORY ${_lp_tmp}
      RESULT_VARIABLE _lp_rc ERROR_VARIABLE _lp_err)
    if(NOT _lp_rc EQUAL 0 OR NOT EXISTS ${_lp_tmp}/tools/lib/perf/evsel.c)
      file(REMOVE_RECURSE ${_lp_tmp})
      message(FATAL_ERROR "libperf: cannot unpack tools/lib/perf from "
                          "'${SWAPBENCH_LINUX_SOURCE}': ${_lp_err}")
    endif()
    execute_process(COMMAND mv -T ${_lp_tmp} ${_lp_root} RESULT_VARIABLE _lp_mv
                    ERROR_QUIET)
    if(NOT _lp_mv EQUAL 0)
      # Another configure won the race: use its tree.
      file(REMOVE_RECURSE ${_lp_tmp})
    endif()
  endif()
endif()

set(_lp ${_lp_root}/tools)
add_library(sbperf STATIC
  ${_lp}/lib/perf/core.c ${_lp}/lib/perf/cpumap.c ${_lp}/lib/perf/threadmap.c
  ${_lp}/lib/perf/evsel.c ${_lp}/lib/perf/evlist.c ${_lp}/lib/perf/mmap.c
  ${_lp}/lib/perf/xyarray.c ${_lp}/lib/perf/lib.c ${_lp}/lib/zalloc.c
  ${_lp}/lib/api/fd/array.c)
# The kernel's tools headers for libperf itself; users see only its API.
target_include_directories(sbperf PRIVATE ${_lp}/lib/perf/include ${_lp}/lib/perf ${_lp}/include
  ${_lp}/arch/x86/include ${_lp}/include/uapi ${_lp}/arch/x86/include/uapi ${_lp}/lib
  ${_lp}/lib/api)
target_include_directories(sbperf SYSTEM INTERFACE ${_lp}/lib/perf/include)
target_compile_definitions(sbperf PRIVATE _GNU_SOURCE)
# Third-party code, built as its own Makefile would (which uses -Werror
# with its own warning set, not ours).
target_compile_options(sbperf PRIVATE -w -fno-strict-aliasing)
set_target_properties(sbperf PROPERTIES POSITION_INDEPENDENT_CODE OFF)
