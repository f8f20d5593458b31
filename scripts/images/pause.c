/*
 * The pause image's only file (/pause): PID 1 of a pod sandbox, holding its namespaces.
 * Sleeps until SIGINT or SIGTERM, then exits 0; reaps every child that is re-parented to it
 * (SIGCHLD), so no zombie outlives its process in the pod. `-v` prints the version and exits.
 * Built with `gcc -static` by scripts/build-images.sh.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "3.10"

static void sigdown(int signo) {
  static const char msg[] = "pause: shutting down on signal\n";
  (void)signo;
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  _exit(0);
}

static void sigreap(int signo) {
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-v")) {
      printf("pause %s\n", VERSION);
      return 0;
    }
  }
  if (getpid() != 1) fprintf(stderr, "pause: warning: not PID 1\n");

  struct sigaction down = {.sa_handler = sigdown};
  struct sigaction reap = {.sa_handler = sigreap, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
  sigemptyset(&down.sa_mask);
  sigemptyset(&reap.sa_mask);
  if (sigaction(SIGINT, &down, NULL) < 0 || sigaction(SIGTERM, &down, NULL) < 0 ||
      sigaction(SIGCHLD, &reap, NULL) < 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
  return 42;
}
