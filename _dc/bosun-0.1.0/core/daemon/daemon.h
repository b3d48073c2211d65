/* bosund's lifecycle: configuration, lock, plugins, control socket,
 * signals, systemd notification, reload and orderly stop. */
#ifndef BOSUN_DAEMON_H
#define BOSUN_DAEMON_H

/* Validates the file as bosund would at start: syntax, the daemon section,
 * top-level sections, and each listed plugin's own check.  Prints every
 * problem to stderr.  Returns 0 when valid, 1 otherwise. */
int daemon_check_config(const char *path);

/* Runs the daemon in the foreground until SIGTERM/SIGINT.  Returns the
 * process exit status. */
int daemon_run(const char *path);

#endif
