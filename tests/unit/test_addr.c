/*
 * Unit tests for lib/addr.c: parsing, the default address, and real
 * listening sockets in a private temporary folder.  At the end, the
 * socket helpers of lib/io.c, which need a pair of connected sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "io.h"
#include "unit.h"

static void
test_parse_plain(void)
{
	struct addr a;

	memset(&a, 0xee, sizeof(a));
	if (!CHECK_STR(addr_parse("/run/sf/sf.sock", &a), NULL))
		return;
	CHECK_EQ(a.kind, ADDR_UNIX);
	CHECK_STR(a.path, "/run/sf/sf.sock");
	CHECK_STR(a.text, "/run/sf/sf.sock");

	CHECK_STR(addr_parse("rel.sock", &a), NULL);
	CHECK_STR(a.path, "rel.sock");
	/* Only "unix:" is a prefix. */
	CHECK_STR(addr_parse("unixsock", &a), NULL);
	CHECK_STR(a.path, "unixsock");
	CHECK_STR(addr_parse("./unix:x", &a), NULL);
	CHECK_STR(a.path, "./unix:x");
}

static void
test_parse_unix_prefix(void)
{
	struct addr a;

	if (!CHECK_STR(addr_parse("unix:/tmp/a.sock", &a), NULL))
		return;
	CHECK_EQ(a.kind, ADDR_UNIX);
	CHECK_STR(a.path, "/tmp/a.sock");
	CHECK_STR(addr_parse("unix:b", &a), NULL);
	CHECK_STR(a.path, "b");
	/* Only one prefix is stripped. */
	CHECK_STR(addr_parse("unix:unix:c", &a), NULL);
	CHECK_STR(a.path, "unix:c");
}

static void
test_parse_tcp(void)
{
	struct addr a;

	if (!CHECK_STR(addr_parse("tcp:127.0.0.1:7000", &a), NULL))
		return;
	CHECK_EQ(a.kind, ADDR_TCP);
	CHECK_STR(a.host, "127.0.0.1");
	CHECK_STR(a.port, "7000");
	CHECK_STR(a.text, "tcp:127.0.0.1:7000");
	CHECK_STR(addr_parse("tcp:[::1]:65535", &a), NULL);
	CHECK_STR(a.host, "::1");
	CHECK_STR(a.port, "65535");
	CHECK_STR(addr_parse("tcp:feed.example:0", &a), NULL);
	CHECK_STR(a.host, "feed.example");
	/* Every address, two ways. */
	CHECK_STR(addr_parse("tcp::80", &a), NULL);
	CHECK_STR(a.host, "");
	CHECK_STR(addr_parse("tcp:*:80", &a), NULL);
	CHECK_STR(a.host, "");
	CHECK_STR(addr_parse("tcp:", &a), "no address: use tcp:HOST:PORT");
	CHECK_STR(addr_parse("tcp:host", &a), "no port: use tcp:HOST:PORT");
	CHECK_STR(addr_parse("tcp:[::1", &a), "no closing ]: use tcp:[V6ADDR]:PORT");
	CHECK_STR(addr_parse("tcp:[::1]", &a), "no port: use tcp:[V6ADDR]:PORT");
	CHECK_STR(addr_parse("tcp:[]:1", &a), "empty address in []");
	CHECK_STR(addr_parse("tcp:::1:5", &a),
	    "an IPv6 address goes in []: tcp:[V6ADDR]:PORT");
	CHECK_STR(addr_parse("tcp:h:65536", &a),
	    "the port is a number from 0 to 65535");
	CHECK_STR(addr_parse("tcp:h:", &a),
	    "the port is a number from 0 to 65535");
	CHECK_STR(addr_parse("tcp:h:x1", &a),
	    "the port is a number from 0 to 65535");
}

static void
test_parse_empty(void)
{
	struct addr a;

	CHECK_STR(addr_parse("", &a), "empty");
	CHECK_STR(addr_parse("unix:", &a), "empty");
}

static void
test_parse_length(void)
{
	char s[5 + 109];
	struct addr a;

	CHECK_EQ(sizeof(a.path), 108);
	memset(s, 'p', sizeof(s));
	s[107] = '\0';
	if (CHECK_STR(addr_parse(s, &a), NULL))
		CHECK_EQ(strlen(a.path), 107);
	s[107] = 'p';
	s[108] = '\0';
	CHECK_STR(addr_parse(s, &a), "path too long");

	memset(s, 'p', sizeof(s));
	memcpy(s, "unix:", 5);
	s[5 + 107] = '\0';
	if (CHECK_STR(addr_parse(s, &a), NULL)) {
		CHECK_EQ(strlen(a.path), 107);
		CHECK_EQ(a.path[0], 'p');
	}
	s[5 + 107] = 'p';
	s[5 + 108] = '\0';
	CHECK_STR(addr_parse(s, &a), "path too long");
}

/* Save and restore the variables addr_default reads. */
struct env {
	char *server, *xdg;
};

static void
env_save(struct env *e)
{
	const char *s;

	e->server = (s = getenv("SF_SERVER")) != NULL ? strdup(s) : NULL;
	e->xdg = (s = getenv("XDG_RUNTIME_DIR")) != NULL ? strdup(s) : NULL;
}

static void
env_set(const char *name, const char *val)
{
	if (val == NULL)
		unsetenv(name);
	else
		setenv(name, val, 1);
}

static void
env_restore(struct env *e)
{
	env_set("SF_SERVER", e->server);
	env_set("XDG_RUNTIME_DIR", e->xdg);
	free(e->server);
	free(e->xdg);
}

static void
test_default(void)
{
	char want[64], longdir[200];
	struct env saved;
	struct addr a;

	env_save(&saved);

	/* SF_SERVER wins, prefix and all. */
	env_set("SF_SERVER", "unix:/srv/sf.sock");
	env_set("XDG_RUNTIME_DIR", "/run/user/1000");
	if (CHECK_STR(addr_default(&a), NULL))
		CHECK_STR(a.path, "/srv/sf.sock");
	env_set("SF_SERVER", "plain.sock");
	if (CHECK_STR(addr_default(&a), NULL))
		CHECK_STR(a.path, "plain.sock");

	/* An empty SF_SERVER is as good as unset. */
	env_set("SF_SERVER", "");
	if (CHECK_STR(addr_default(&a), NULL))
		CHECK_STR(a.path, "/run/user/1000/streamfan.sock");
	env_set("SF_SERVER", NULL);
	if (CHECK_STR(addr_default(&a), NULL))
		CHECK_STR(a.path, "/run/user/1000/streamfan.sock");

	/* Neither: /tmp with the uid; an empty XDG_RUNTIME_DIR is unset. */
	snprintf(want, sizeof(want), "/tmp/streamfan-%lu.sock",
	    (unsigned long)getuid());
	env_set("XDG_RUNTIME_DIR", NULL);
	if (CHECK_STR(addr_default(&a), NULL))
		CHECK_STR(a.path, want);
	env_set("XDG_RUNTIME_DIR", "");
	if (CHECK_STR(addr_default(&a), NULL))
		CHECK_STR(a.path, want);
	env_set("SF_SERVER", "");
	if (CHECK_STR(addr_default(&a), NULL))
		CHECK_STR(a.path, want);

	/* Too long is a reason, not a truncated path. */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	env_set("XDG_RUNTIME_DIR", longdir);
	CHECK_STR(addr_default(&a), "path too long");
	env_set("XDG_RUNTIME_DIR", NULL);
	env_set("SF_SERVER", longdir);
	CHECK_STR(addr_default(&a), "path too long");
	/* 93 + strlen("/streamfan.sock") = 108: one too many. */
	longdir[93] = '\0';
	env_set("SF_SERVER", NULL);
	env_set("XDG_RUNTIME_DIR", longdir);
	CHECK_STR(addr_default(&a), "path too long");
	longdir[92] = '\0';
	env_set("XDG_RUNTIME_DIR", longdir);
	if (CHECK_STR(addr_default(&a), NULL))
		CHECK_EQ(strlen(a.path), 107);

	env_restore(&saved);
}

/* A private folder for socket tests, and a path in it. */
struct tmp {
	char dir[64];
	struct addr a;
};

static int
tmp_new(struct tmp *t, const char *name)
{
	char path[128];

	snprintf(t->dir, sizeof(t->dir), "/tmp/sf-unit-XXXXXX");
	if (!CHECK(mkdtemp(t->dir) != NULL))
		return -1;
	snprintf(path, sizeof(path), "unix:%s/%s", t->dir, name);
	if (!CHECK_STR(addr_parse(path, &t->a), NULL)) {
		rmdir(t->dir);
		return -1;
	}
	return 0;
}

/* Remove the PATH.lock that addr_listen leaves beside a socket. */
static void
unlink_lock(const char *path)
{
	char lock[160];

	snprintf(lock, sizeof(lock), "%s.lock", path);
	(void)unlink(lock);
}

static void
tmp_free(struct tmp *t)
{
	struct stat st;

	if (lstat(t->a.path, &st) == 0 && S_ISDIR(st.st_mode))
		rmdir(t->a.path);
	else
		unlink(t->a.path);
	unlink_lock(t->a.path);
	CHECK_EQ(rmdir(t->dir), 0);
}

/* The mode bits of path, or -1 when it is not a socket. */
static int
sock_mode(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode))
		return -1;
	return (int)(st.st_mode & 07777);
}

/* Connect to a and check that the listener lfd accepts: 1 if it works. */
static int
round_trip(const struct addr *a, int lfd)
{
	char c = 0;
	int fd, afd, ok;

	if (!CHECK((fd = addr_connect(a)) >= 0))
		return 0;
	afd = accept(lfd, NULL, NULL);
	ok = CHECK(afd >= 0);
	if (afd >= 0) {
		ok &= CHECK_EQ(write(fd, "!", 1), 1);
		ok &= CHECK_EQ(read(afd, &c, 1), 1);
		ok &= CHECK_EQ(c, '!');
		close(afd);
	}
	close(fd);
	return ok;
}

static void
test_listen_mode(void)
{
	static const mode_t modes[] = { 0600, 0660, 0666, 0640 };
	struct tmp t;
	mode_t old;
	size_t i;
	int fd;

	if (tmp_new(&t, "sf.sock") == -1)
		return;
	old = umask(022);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		fd = addr_listen(&t.a, modes[i], 8);
		if (!CHECK(fd >= 0))
			break;
		CHECK_EQ(sock_mode(t.a.path), modes[i]);
		CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
		CHECK_EQ(addr_unlink(&t.a), 0);
		CHECK(access(t.a.path, F_OK) == -1 && errno == ENOENT);
	}
	/* The process umask is left as it was. */
	CHECK_EQ(umask(old), 022);
	tmp_free(&t);
}

static void
test_listen_connect(void)
{
	struct tmp t;
	int lfd, fd;

	if (tmp_new(&t, "s") == -1)
		return;
	if (CHECK((lfd = addr_listen(&t.a, 0600, 8)) >= 0)) {
		round_trip(&t.a, lfd);
		if (CHECK((fd = addr_connect(&t.a)) >= 0)) {
			CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
			CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
			close(fd);
		}
		close(lfd);
	}
	tmp_free(&t);
}

static void
test_listen_live(void)
{
	struct tmp t;
	int lfd, fd, afd;
	char c;

	if (tmp_new(&t, "live.sock") == -1)
		return;
	if (CHECK((lfd = addr_listen(&t.a, 0660, 8)) >= 0)) {
		errno = 0;
		fd = addr_listen(&t.a, 0600, 8);
		CHECK_EQ(fd, -1);
		CHECK_EQ(errno, EADDRINUSE);
		if (fd >= 0)
			close(fd);
		/* The first daemon's socket is untouched and still works. */
		CHECK_EQ(sock_mode(t.a.path), 0660);
		/* It sees the probe's connection, already closed. */
		if (CHECK((afd = accept(lfd, NULL, NULL)) >= 0)) {
			CHECK_EQ(read(afd, &c, 1), 0);
			close(afd);
		}
		round_trip(&t.a, lfd);
		close(lfd);
	}
	tmp_free(&t);
}

static void
test_listen_stale(void)
{
	struct tmp t;
	int lfd;

	if (tmp_new(&t, "stale.sock") == -1)
		return;
	if (!CHECK((lfd = addr_listen(&t.a, 0660, 8)) >= 0))
		goto out;
	close(lfd);
	/* A dead daemon's file is left behind... */
	CHECK_EQ(sock_mode(t.a.path), 0660);
	errno = 0;
	CHECK_EQ(addr_connect(&t.a), -1);
	CHECK_EQ(errno, ECONNREFUSED);
	/* ...and reclaimed by the next one. */
	if (CHECK((lfd = addr_listen(&t.a, 0600, 8)) >= 0)) {
		CHECK_EQ(sock_mode(t.a.path), 0600);
		round_trip(&t.a, lfd);
		close(lfd);
	}
	CHECK_EQ(addr_unlink(&t.a), 0);
out:
	tmp_free(&t);
}

/* Milliseconds on the monotonic clock. */
static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_listen_lock(void)
{
	char lock[160], target[160], c;
	struct stat st;
	struct tmp t;
	int lfd, fd, go[2];
	long t0;
	pid_t pid;

	if (tmp_new(&t, "locked.sock") == -1)
		return;
	snprintf(lock, sizeof(lock), "%s.lock", t.a.path);
	/* Another starting daemon holds the lock for 300 ms: this one
	 * waits for it, then listens. */
	if (!CHECK(pipe(go) == 0))
		goto out;
	if ((pid = fork()) == 0) {
		fd = open(lock, O_RDONLY | O_CREAT, 0600);
		if (fd == -1 || flock(fd, LOCK_EX) == -1 ||
		    write(go[1], "l", 1) != 1)
			_exit(1);
		usleep(300 * 1000);
		_exit(0);
	}
	close(go[1]);
	if (CHECK(pid > 0) && CHECK_EQ(read(go[0], &c, 1), 1)) {
		t0 = now_ms();
		if (CHECK((lfd = addr_listen(&t.a, 0600, 8)) >= 0)) {
			CHECK(now_ms() - t0 >= 250);
			round_trip(&t.a, lfd);
			close(lfd);
		}
		CHECK_EQ(waitpid(pid, NULL, 0), pid);
	}
	close(go[0]);
	/* The lock file stays, an empty regular file. */
	CHECK(lstat(lock, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
	CHECK_EQ(addr_unlink(&t.a), 0);
	CHECK_EQ(unlink(lock), 0);
	/* A symbolic link there is not followed: ENOLCK, nothing made. */
	snprintf(target, sizeof(target), "%s/elsewhere", t.dir);
	if (CHECK(symlink(target, lock) == 0)) {
		errno = 0;
		CHECK_EQ(addr_listen(&t.a, 0600, 8), -1);
		CHECK_EQ(errno, ENOLCK);
		CHECK(lstat(target, &st) == -1 && errno == ENOENT);
		CHECK(lstat(t.a.path, &st) == -1 && errno == ENOENT);
		CHECK_EQ(unlink(lock), 0);
	}
out:
	tmp_free(&t);
}

static void
test_listen_not_socket(void)
{
	char buf[16];
	struct stat st;
	struct tmp t;
	ssize_t n;
	int fd;

	if (tmp_new(&t, "file") == -1)
		return;
	fd = open(t.a.path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	if (!CHECK(fd >= 0))
		goto out;
	CHECK_EQ(write(fd, "keep me\n", 8), 8);
	close(fd);

	errno = 0;
	fd = addr_listen(&t.a, 0600, 8);
	CHECK_EQ(fd, -1);
	CHECK_EQ(errno, EEXIST);
	if (fd >= 0)
		close(fd);
	if (CHECK_EQ(lstat(t.a.path, &st), 0)) {
		CHECK(S_ISREG(st.st_mode));
		CHECK_EQ(st.st_mode & 07777, 0640);
		CHECK_EQ(st.st_size, 8);
	}
	if (CHECK((fd = open(t.a.path, O_RDONLY)) >= 0)) {
		n = read(fd, buf, sizeof(buf));
		CHECK_EQ(n, 8);
		CHECK(n == 8 && memcmp(buf, "keep me\n", 8) == 0);
		close(fd);
	}
	CHECK_EQ(unlink(t.a.path), 0);

	/* A folder is not a socket either. */
	if (CHECK_EQ(mkdir(t.a.path, 0700), 0)) {
		errno = 0;
		fd = addr_listen(&t.a, 0600, 8);
		CHECK_EQ(fd, -1);
		CHECK_EQ(errno, EEXIST);
		if (fd >= 0)
			close(fd);
		CHECK_EQ(rmdir(t.a.path), 0);
	}
out:
	tmp_free(&t);
}

static void
test_missing(void)
{
	struct tmp t;
	struct addr a;
	char path[128];
	int fd;

	if (tmp_new(&t, "nothing.sock") == -1)
		return;
	errno = 0;
	fd = addr_connect(&t.a);
	CHECK_EQ(fd, -1);
	CHECK_EQ(errno, ENOENT);
	if (fd >= 0)
		close(fd);
	errno = 0;
	CHECK_EQ(addr_unlink(&t.a), -1);
	CHECK_EQ(errno, ENOENT);

	/* Listening in a folder that does not exist. */
	snprintf(path, sizeof(path), "%s/no/such.sock", t.dir);
	if (CHECK_STR(addr_parse(path, &a), NULL)) {
		errno = 0;
		fd = addr_listen(&a, 0600, 8);
		CHECK_EQ(fd, -1);
		CHECK_EQ(errno, ENOENT);
		if (fd >= 0)
			close(fd);
	}
	tmp_free(&t);
}

/* lib/io.c over a socketpair. */

/* The exit status of child pid, or -1. */
static int
child_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_io_read_full(void)
{
	char buf[8];
	int sv[2];

	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0))
		return;
	/* Two writes, one read. */
	CHECK_EQ(io_write_all(sv[0], "abc", 3), 0);
	CHECK_EQ(io_write_all(sv[0], "defg", 4), 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(io_read_full(sv[1], buf, 7, 1000), 0);
	CHECK(memcmp(buf, "abcdefg", 7) == 0);

	/* Nothing comes: a bounded wait. */
	CHECK_EQ(io_write_all(sv[0], "x", 1), 0);
	errno = 0;
	CHECK_EQ(io_read_full(sv[1], buf, 2, 20), -1);
	CHECK_EQ(errno, ETIMEDOUT);

	/* A non-blocking fd with nothing to read: read(2)'s EAGAIN. */
	CHECK_EQ(fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(io_set_nonblock(sv[1]), 0);
	CHECK(fcntl(sv[1], F_GETFL) & O_NONBLOCK);
	errno = 0;
	CHECK_EQ(io_read(sv[1], buf, 1), -1);
	CHECK_EQ(errno, EAGAIN);

	/* The peer goes away mid-read. */
	CHECK_EQ(io_write_all(sv[0], "y", 1), 0);
	close(sv[0]);
	errno = 0;
	CHECK_EQ(io_read_full(sv[1], buf, 2, -1), -1);
	CHECK_EQ(errno, ECONNRESET);
	close(sv[1]);
}

static void
test_io_write_all(void)
{
	static char big[256 * 1024], got[sizeof(big)];
	void (*old)(int);
	size_t i;
	int sv[2];
	pid_t pid;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + (i >> 10));
	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0))
		return;
	/* More than a socket buffer: the writer must loop. */
	if ((pid = fork()) == 0) {
		close(sv[1]);
		_exit(io_write_all(sv[0], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(sv[0]);
	if (CHECK(pid > 0)) {
		CHECK_EQ(io_read_full(sv[1], got, sizeof(got), 5000), 0);
		CHECK(memcmp(big, got, sizeof(big)) == 0);
		CHECK_EQ(child_status(pid), 0);
	}
	close(sv[1]);

	/* The reader went away: EPIPE with SIGPIPE ignored. */
	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0))
		return;
	close(sv[1]);
	old = signal(SIGPIPE, SIG_IGN);
	errno = 0;
	CHECK_EQ(io_write_all(sv[0], "z", 1), -1);
	CHECK_EQ(errno, EPIPE);
	signal(SIGPIPE, old);
	close(sv[0]);
}

/*
 * Once a stop signal came, every helper gives up at once with EINTR,
 * however long it was asked to wait.  In a child: catching is for the
 * whole process.
 */
static void
test_io_stop(void)
{
	long long t0, ms = 60000;
	size_t done = 1;
	char buf[1];
	int sv[2], bad = 0;
	pid_t pid;

	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0))
		return;
	if ((pid = fork()) == 0) {
		bad += !CHECK_EQ(io_catch_stop(), 0);
		bad += !CHECK_EQ(io_stopped(), 0);
		/* A helper that waits for ever ends the child: a failure,
		 * not a hang (no tick is due here to need SIGALRM). */
		bad += !CHECK(signal(SIGALRM, SIG_DFL) != SIG_ERR);
		alarm(10);
		bad += !CHECK_EQ(raise(SIGTERM), 0);
		bad += !CHECK_EQ(raise(SIGINT), 0);
		/* The first one counts. */
		bad += !CHECK_EQ(io_stopped(), SIGTERM);
		t0 = io_now_ms();
		errno = 0;
		bad += !CHECK_EQ(io_write_counted(sv[0], "abc", 3, &done), -1);
		bad += !CHECK_EQ(errno, EINTR);
		bad += !CHECK_EQ(done, 0);
		errno = 0;
		bad += !CHECK_EQ(io_poll(NULL, 0, -1), -1);
		bad += !CHECK_EQ(errno, EINTR);
		errno = 0;
		bad += !CHECK_EQ(io_read_full(sv[1], buf, 1, -1), -1);
		bad += !CHECK_EQ(errno, EINTR);
		io_backoff(&ms, ms);
		bad += !CHECK(io_now_ms() - t0 < 1000);
		_exit(bad);
	}
	if (CHECK(pid > 0))
		CHECK_EQ(child_status(pid), 0);
	close(sv[0]);
	close(sv[1]);
}

void
suite_addr(void)
{
	RUN(test_parse_plain);
	RUN(test_parse_unix_prefix);
	RUN(test_parse_tcp);
	RUN(test_parse_empty);
	RUN(test_parse_length);
	RUN(test_default);
	RUN(test_listen_mode);
	RUN(test_listen_connect);
	RUN(test_listen_live);
	RUN(test_listen_stale);
	RUN(test_listen_lock);
	RUN(test_listen_not_socket);
	RUN(test_missing);
	RUN(test_io_read_full);
	RUN(test_io_write_all);
	RUN(test_io_stop);
}
