/* The git side of a bisection and a night: one way to run git, a commit's
 * identity, the range to bisect (a rebased branch from its merge base). */
#define _GNU_SOURCE
#include "harness/bisect.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/process.h"

#include <stdlib.h>
#include <string.h>

#define GIT_TIMEOUT_S 120

int git_run(const char *tree, const char *const *args, int timeout_s, char **out, char **err)
{
	const char *argv[24] = { "git" };
	struct spawn_opts so = { .argv = argv, .timeout_ms = timeout_s * 1000, .capture = 1,
				 .merge_stderr = err != NULL, .quiet_stderr = err == NULL };
	struct spawn_result r = { 0 };
	int i = 1, rc;

	if (tree) {
		argv[i++] = "-C";
		argv[i++] = tree;
	}
	for (int j = 0; args[j] && i < 23; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	if ((rc = spawn_run(&so, &r)))
		return rc;
	rc = r.timed_out ? -ETIMEDOUT : r.exit_code ? -EIO : 0;
	if (r.out)
		rstrip(r.out);
	if (rc && err)
		*err = xstrdup(r.out ? r.out : "");
	if (!rc && out) {
		*out = r.out ? r.out : xstrdup("");
		r.out = NULL;
	}
	spawn_result_release(&r);
	return rc;
}

json_t *git_commit_info(const char *tree, const char *commit)
{
	const char *args[] = { "log", "-1", "--format=%H%x1f%s%x1f%an <%ae>%x1f%aI", commit,
			       "--", NULL };
	char *out = NULL, *f[4] = { 0 }, *p;
	json_t *o;

	if (git_run(tree, args, GIT_TIMEOUT_S, &out, NULL))
		return NULL;
	p = out;
	for (int i = 0; i < 4; i++) {
		f[i] = p;
		p = p ? strchr(p, '\x1f') : NULL;
		if (p)
			*p++ = 0;
	}
	o = json_pack("{s:s,s:s,s:s,s:s}", "commit", f[0] ?: "", "subject", f[1] ?: "", "author",
		      f[2] ?: "", "date", f[3] ?: "");
	free(out);
	return o;
}

char *git_rev_parse(const char *tree, const char *rev)
{
	char *spec = xasprintf("%s^{commit}", rev), *out = NULL;
	const char *args[] = { "rev-parse", "--verify", "-q", spec, NULL };

	if (git_run(tree, args, GIT_TIMEOUT_S, &out, NULL))
		out = NULL;
	free(spec);
	return out;
}

int bisect_range(const char *tree, const char *good, const char *bad, char **base,
		 int *rebased, json_t **commits)
{
	char *g = git_rev_parse(tree, good), *b = git_rev_parse(tree, bad), *mb = NULL, *list = NULL;
	char *range = NULL;
	int rc = 0;

	if (!g || !b) {
		rc = sb_err(ENOENT, "'%s': unknown commit '%s'", tree, !g ? good : bad);
		goto out;
	}
	{
		const char *args[] = { "merge-base", "--is-ancestor", g, b, NULL };

		*rebased = git_run(tree, args, GIT_TIMEOUT_S, NULL, NULL) != 0;
	}
	if (*rebased) {
		const char *args[] = { "merge-base", g, b, NULL };

		if (git_run(tree, args, GIT_TIMEOUT_S, &mb, NULL) || !*mb) {
			rc = sb_err(ENOENT, "'%s': %.12s and %.12s have no merge base", tree, g, b);
			goto out;
		}
	} else {
		mb = xstrdup(g);
	}
	range = xasprintf("%s..%s", mb, b);
	{
		const char *args[] = { "rev-list", "--reverse", "--topo-order", range, NULL };

		char *err = NULL;

		if (git_run(tree, args, GIT_TIMEOUT_S, &list, &err)) {
			rc = sb_err(EIO, "'%s': git rev-list %s failed: %s", tree, range, err ?: "");
			free(err);
			goto out;
		}
	}
	*commits = json_array();
	for (char *save = NULL, *t = strtok_r(list, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		json_array_append_new(*commits, json_string(t));
	if (!json_array_size(*commits)) {
		json_decref(*commits);
		rc = sb_err(EINVAL, "'%s': no commits between %.12s and %.12s", tree, mb, b);
		goto out;
	}
	*base = mb;
	mb = NULL;
out:
	free(g);
	free(b);
	free(mb);
	free(list);
	free(range);
	return rc;
}

