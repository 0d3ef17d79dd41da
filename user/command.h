/* -- COMMAND: started held, released once tracing is attached. */
#ifndef TV_COMMAND_H
#define TV_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct command {
	pid_t pid;
	int go_fd;   /* write end: closing it lets the child exec */
	int err_fd;  /* read end: the child's exec errno, or EOF on success */
	bool exited;
	int status;  /* waitpid status once exited */
};

/* Forks a child that waits for command_release() before exec. stdout_fd >= 0
 * becomes the child's stdout (so that its output never mixes into records). */
int command_spawn(struct command *cmd, char **argv, int stdout_fd, char *err, size_t errlen);
/* Lets the child exec; returns 0, or the exec errno with a line in err. */
int command_release(struct command *cmd, const char *name, char *err, size_t errlen);
/* Non-blocking: true once the child has exited. */
bool command_poll(struct command *cmd);
/* Blocks until the child exits. */
void command_wait(struct command *cmd);
/* The shell's convention: the exit status, or 128 + signal. */
int command_exit_code(const struct command *cmd);

/* Whether pid is root or one of its live descendants, from /proc. */
bool pid_descends_from(pid_t pid, pid_t root);
/* Calls fn for every live descendant of pid, from /proc. */
void for_each_descendant(pid_t pid, void (*fn)(pid_t, void *), void *arg);

#endif
