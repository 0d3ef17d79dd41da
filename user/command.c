#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "command.h"

#define ANCESTRY_MAX 64 /* parents followed from a process to its tracer's target */

int command_spawn(struct command *cmd, char **argv, int stdout_fd, char *err, size_t errlen)
{
	int go[2], ex[2];

	memset(cmd, 0, sizeof(*cmd));
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	cmd->pid = fork();
	if (cmd->pid < 0) {
		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		return -1;
	}
	if (cmd->pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(ex[0]);
		if (stdout_fd >= 0 && dup2(stdout_fd, STDOUT_FILENO) < 0)
			_exit(126);
		/* wait until the tracer is attached (EOF on the pipe) */
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		execvp(argv[0], argv);
		e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(go[0]);
	close(ex[1]);
	cmd->go_fd = go[1];
	cmd->err_fd = ex[0];
	return 0;
}

int command_release(struct command *cmd, const char *name, char *err, size_t errlen)
{
	ssize_t n;
	int e = 0;

	close(cmd->go_fd);
	cmd->go_fd = -1;
	do
		n = read(cmd->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(cmd->err_fd);
	cmd->err_fd = -1;
	if (n == (ssize_t)sizeof(e)) {
		snprintf(err, errlen, "cannot run %s: %s", name, strerror(e));
		return e;
	}
	return 0;
}

bool command_poll(struct command *cmd)
{
	if (!cmd->exited && waitpid(cmd->pid, &cmd->status, WNOHANG) == cmd->pid)
		cmd->exited = true;
	return cmd->exited;
}

void command_wait(struct command *cmd)
{
	while (!cmd->exited) {
		if (waitpid(cmd->pid, &cmd->status, 0) == cmd->pid)
			cmd->exited = true;
		else if (errno != EINTR)
			break;
	}
}

int command_exit_code(const struct command *cmd)
{
	if (WIFEXITED(cmd->status))
		return WEXITSTATUS(cmd->status);
	if (WIFSIGNALED(cmd->status))
		return 128 + WTERMSIG(cmd->status);
	return 1;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		/* the name in parentheses may contain anything: skip to its last ')' */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %d", &ppid) != 1)
			ppid = -1;
	}
	fclose(f);
	return ppid;
}

bool pid_descends_from(pid_t pid, pid_t root)
{
	int depth = 0;

	/* the depth bound guards against a racing reparent loop */
	for (pid_t p = pid; p > 1 && depth < ANCESTRY_MAX; p = parent_of(p), depth++)
		if (p == root)
			return true;
	return false;
}

void for_each_descendant(pid_t root, void (*fn)(pid_t, void *), void *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0 || pid == root)
			continue;
		if (pid_descends_from(pid, root))
			fn(pid, arg);
	}
	closedir(d);
}
