/* Source line numbers of JSON values, for error messages.
 *
 * jansson reports positions only for syntax errors; once a document has
 * parsed, a semantic complaint ("kernels[1].patches[0]: no such file")
 * cannot say where in the file the offending value is. This is a small,
 * self-contained scanner that re-reads the source text to find it.
 *
 * Paths name a value by the keys and array indices leading to it:
 *
 *   ""                       the root value
 *   vm.memory                member "memory" of member "vm" of the root
 *   kernels[1].patches[0]    array elements by 0-based index
 *   env["LD_PRELOAD path"]   a key with characters other than
 *                            [A-Za-z0-9_-] (or an empty key); inside the
 *                            quotes, \" and \\ stand for " and \
 *
 * Keys are compared byte for byte with the JSON key after decoding its
 * escapes (\uXXXX to UTF-8), so a path holds keys as jansson returns them.
 */
#ifndef SB_JSONLOC_H
#define SB_JSONLOC_H

#include <jansson.h>

#include <stddef.h>

/* 1-based line on which the value at path starts in the NUL-terminated
 * JSON text; for an object member, the line of its key. Lines are counted
 * by '\n', so CRLF files number like LF ones. When a key occurs more than
 * once in an object the last occurrence wins, as it does in jansson.
 *
 * Returns 0 when the path does not exist, the path is malformed, or the
 * text is not a single valid JSON value (the whole text is checked, not
 * just the part before the value found). UTF-8 validity of strings is not
 * checked. Nesting deeper than 2048 levels is treated as malformed. Never
 * reads past the terminating NUL.
 */
int jsonloc_line(const char *text, const char *path);
/* An input error naming file, line (when found) and JSON path: sets sb_err()
 * and returns -EINVAL. */
int jsonloc_err(const char *file, const char *text, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Objects are checked against a table with params_check() (common/params.h;
 * harness/spec-check.c's spec_relocate gives its messages file and line). */

/* Build paths for jsonloc_line() while walking a jansson tree. Both return
 * a malloc'd string (NULL when out of memory) that the caller frees; base
 * is not freed. A NULL base is taken as "".
 *
 * jsonloc_path_append_key: "base.key", just "key" when base is "", or
 * base["key"] when key is empty or has characters outside [A-Za-z0-9_-].
 * jsonloc_path_append_index: "base[i]".
 */
char *jsonloc_path_append_key(const char *base, const char *key);
char *jsonloc_path_append_index(const char *base, size_t i);

#endif
