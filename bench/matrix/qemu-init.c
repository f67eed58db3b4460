/* /init of the plain QEMU microvm peer (bench/matrix/modes.sh): mounts devtmpfs on /dev, runs
 * the workload whose argv is in /argv (NUL-separated, written when the initramfs is made), prints
 * "podrt-bench-exit=STATUS" on the console and reboots (reboot=t and -no-reboot: QEMU exits).
 * Should reboot() fail, init returns and the kernel panics, which (panic=-1) reboots too. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  static char buffer[8192];
  char *argv[64];
  int argc = 0, status = 127;
  int fd = open("/argv", O_RDONLY);
  ssize_t length = fd < 0 ? -1 : read(fd, buffer, sizeof buffer - 1);
  if (length > 0) {
    for (char *arg = buffer; arg < buffer + length && argc < 63; arg += strlen(arg) + 1) argv[argc++] = arg;
  }
  argv[argc] = NULL;
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL); /* /dev/zero for dd; /dev/console stays */
  setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
  if (argc > 0) {
    pid_t pid = fork();
    if (pid == 0) {
      execv(argv[0], argv);
      _exit(127);
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid) status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  printf("podrt-bench-exit=%d\n", status);
  fflush(stdout);
  sync();
  reboot(RB_AUTOBOOT);
  return 1;
}
