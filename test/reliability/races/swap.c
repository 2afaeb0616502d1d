/*
 * Swaps two paths with renameat2(RENAME_EXCHANGE) as fast as it can until SIGTERM or SIGINT,
 * then prints how many swaps succeeded. The race suite uses it to flip a directory the driver
 * walks between a real directory and a symlink, atomically, while a CSI call runs.
 * Usage: csi-race-swap PATH_A PATH_B
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PATH_A PATH_B\n", argv[0]);
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  unsigned long swaps = 0, failures = 0;
  /* Tell the parent the loop runs, so that it starts the operation under test only then. */
  printf("ready\n");
  fflush(stdout);
  while (!stop_requested) {
    if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) == 0) swaps++;
    else failures++;
  }
  printf("swaps %lu failures %lu\n", swaps, failures);
  return 0;
}
