/* User and group lookups in the agent: none.
 *
 * libcgroup's one object file also holds its cgconfig.conf/cgrules code,
 * which looks users and groups up; static glibc then warns that NSS would
 * need its shared libraries at run time. The agent never asks for a user
 * or group (it creates its group with ignore_ownership), so these stand in
 * for glibc's and fail like a lookup that finds nothing: the link stays
 * warning-free and the agent fully static.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>

struct passwd *getpwnam(const char *name)
{
	(void)name;
	errno = ENOENT;
	return NULL;
}

struct passwd *getpwuid(uid_t uid)
{
	(void)uid;
	errno = ENOENT;
	return NULL;
}

int getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t len,
	       struct passwd **result)
{
	(void)name, (void)pwd, (void)buf, (void)len;
	*result = NULL;
	return 0;
}

struct group *getgrnam(const char *name)
{
	(void)name;
	errno = ENOENT;
	return NULL;
}

struct group *getgrgid(gid_t gid)
{
	(void)gid;
	errno = ENOENT;
	return NULL;
}

int getgrnam_r(const char *name, struct group *grp, char *buf, size_t len,
	       struct group **result)
{
	(void)name, (void)grp, (void)buf, (void)len;
	*result = NULL;
	return 0;
}
