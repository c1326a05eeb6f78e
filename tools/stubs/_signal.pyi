# _signal is the C module behind `signal`: pyrunc imports it directly to skip signal's enum
# wrappers at start-up. typeshed has no stub for it; its functions are signal's (the ones
# pyrunc calls are re-exported here).
from signal import set_wakeup_fd as set_wakeup_fd
from signal import signal as signal
