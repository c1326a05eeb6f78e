# _signal is the C module behind `signal`: pyrunc and pyctl import it directly to skip signal's
# enum wrappers at start-up. typeshed has no stub for it; its functions are signal's (the ones
# the project calls are re-exported here), its constants plain ints.
from signal import set_wakeup_fd as set_wakeup_fd
from signal import signal as signal

SIGTERM: int
SIGHUP: int
SIGINT: int
SIGWINCH: int
SIGKILL: int
SIG_DFL: int
SIG_IGN: int
SIGCHLD: int
SIGPIPE: int
SIGURG: int
SIGSTOP: int
NSIG: int
