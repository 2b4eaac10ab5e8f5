#!/usr/bin/env python3
"""A service manager's socket activation, as the protocol documents it.

    activate.py PATH RUNS PROGRAM ARGS...

Listens on the Unix socket PATH (passed as fd 3, named "main") and on a
free TCP port of 127.0.0.1 (fd 4, named "plain-s", its port written to
PATH.port), then runs PROGRAM RUNS times, one after the other, each with
LISTEN_PID set to its own pid, LISTEN_FDS=2 and LISTEN_FDNAMES; the pid
of the current run goes to PATH.pid.  The sockets stay open here the
whole time, so connections made between runs wait for the next one.
Exits with the last run's status.
"""

import os
import socket
import sys


def main():
    path, runs, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(path)
    unix.listen(64)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(64)
    with open(path + ".port", "w") as f:
        f.write("%d\n" % tcp.getsockname()[1])
    status = 0
    for _ in range(runs):
        pid = os.fork()
        if pid == 0:
            os.dup2(unix.fileno(), 3)
            os.dup2(tcp.fileno(), 4)
            # dup2 onto itself keeps close-on-exec: clear it either way.
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)
            env = dict(os.environ, LISTEN_PID=str(os.getpid()),
                       LISTEN_FDS="2", LISTEN_FDNAMES="main:plain-s")
            os.execve(argv[0], argv, env)
        with open(path + ".pid.tmp", "w") as f:
            f.write("%d\n" % pid)
        os.rename(path + ".pid.tmp", path + ".pid")
        _, st = os.waitpid(pid, 0)
        status = os.waitstatus_to_exitcode(st)
        os.unlink(path + ".pid")
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
