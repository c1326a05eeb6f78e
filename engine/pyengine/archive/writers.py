"""Small regular files and symlinks of a layer, created by a pair of threads.

Creating an inode is the slow step of applying a layer on these machines: ext4 without a
journal skips free inodes whose deletion is recent (up to five minutes) and rescans the whole
group for every new file, so after an image was removed each create costs 100-300 us of
kernel time (../shared/notes/host-facts.md). Creates in one directory are serialised by the
kernel (the directory's lock is held across the allocation), creates in two directories are not:
two threads creating side by side in different directories cut the cost by 2.5x there. So each
run of files of one directory goes to one writer, the least busy when the run starts, and the
queue is deep enough (a thousand files) for the other writer to be in another directory.

Where creating is cheap (10-15 us on a quiet ext4, less on tmpfs) the hand-off costs more than
it saves (a layer on tmpfs: 0.38 s alone, 0.50 s with writers: the threads take turns at the
GIL). So by default a layer starts without them, times its first creates, and starts the
writers only when those are slow (`CreateTimer`).

The extracting thread hands over a file it has read whole (`FileJob`: its parent directory's
descriptor, its name, its data and metadata) and stays the only one that looks paths up,
removes or replaces anything, or closes directory descriptors. It calls `drain()` before any
of those could touch a file still in flight, and it redoes itself, synchronously, a file whose
name turned out to be taken (`drain()` returns it with its FileExistsError).
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass

WRITER_THREADS = 2  # the machines have two cores; a third writer only adds contention
MAX_FILE_BYTES = 1 << 20  # bigger files are streamed to disk by the extracting thread
MAX_QUEUED_FILES = 1024
MAX_QUEUED_BYTES = 32 << 20
SAMPLED_CREATES = 32  # creates timed per decision
SLOW_CREATE_NS = 30_000  # their median above this: the writers pay off
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(slots=True)
class FileJob:
    """One regular file to create in an open directory, with its whole content, or a symlink."""

    seq: int  # the order the layer listed it in
    path: bytes  # relative to the layer's root (errors, and a redo by the extracting thread)
    dir_fd: int  # the parent's descriptor; the extracting thread keeps it open until drain()
    base: bytes
    data: bytes
    uid: int
    gid: int
    mode: int
    atime_ns: int
    mtime_ns: int
    symlink_to: bytes | None = None  # a symlink to this (data and mode unused)
    writer: int = 0  # the writer thread it was queued for (set by submit)


def write_file(job: FileJob, chown: bool) -> None:
    """Create the file (never through an existing name or link), write it, then owner, mode
    (after the owner: chown clears setuid bits) and times. A symlink: create, owner, times,
    none of them following it."""
    if job.symlink_to is not None:
        os.symlink(job.symlink_to, job.base, dir_fd=job.dir_fd)
        if chown:
            os.chown(job.base, job.uid, job.gid, dir_fd=job.dir_fd, follow_symlinks=False)
        os.utime(job.base, ns=(job.atime_ns, job.mtime_ns), dir_fd=job.dir_fd,
                 follow_symlinks=False)
        return
    fd = os.open(job.base, CREATE_FLAGS, 0o600, dir_fd=job.dir_fd)
    try:
        view = memoryview(job.data)
        while view:
            view = view[os.write(fd, view):]
        if chown:
            os.fchown(fd, job.uid, job.gid)
        os.fchmod(fd, job.mode)
        os.utime(fd, ns=(job.atime_ns, job.mtime_ns))
    finally:
        os.close(fd)


class CreateTimer:
    """Decides from a layer's creates, in rounds of a few, whether writer threads are worth
    starting (a layer may start in a directory where creating is cheap)."""

    def __init__(self, samples: int | None = None, slow_ns: int | None = None) -> None:
        self._samples = SAMPLED_CREATES if samples is None else samples
        self._slow_ns = SLOW_CREATE_NS if slow_ns is None else slow_ns
        self._times: list[int] = []

    def slow(self, took_ns: int) -> bool:
        """Record one create's duration; whether the last round of them shows that creating
        is slow here (their median over the threshold)."""
        times = self._times
        times.append(took_ns)
        if len(times) < self._samples:
            return False
        times.sort()
        median = times[len(times) // 2]
        times.clear()
        return median > self._slow_ns


class FileWriters:
    """A bounded queue of FileJobs and the threads that carry them out (started on the first
    job). Not thread-safe itself: one extracting thread submits, drains and closes."""

    def __init__(self, chown: bool, threads: int = WRITER_THREADS) -> None:
        self._chown = chown
        self._thread_count = threads
        self._threads: list[threading.Thread] = []
        self._queues: list[queue.SimpleQueue[FileJob | None]] = \
            [queue.SimpleQueue() for _ in range(threads)]
        self._load = [0] * threads  # jobs queued per writer
        self._run_dir_fd = -1  # the directory of the run of files being queued
        self._run_writer = 0
        self._done: queue.SimpleQueue[tuple[FileJob, BaseException | None]] = \
            queue.SimpleQueue()
        self._queued = 0
        self._queued_bytes = 0
        self._failures: list[tuple[FileJob, BaseException]] = []
        self._cancelled = False

    @property
    def busy(self) -> bool:
        return self._queued > 0

    @property
    def failed(self) -> bool:
        """Whether a finished job failed (its data is kept until drain() hands it back)."""
        return bool(self._failures)

    def submit(self, job: FileJob) -> None:
        """Queue a job; waits for earlier ones while the queue is over its bounds."""
        if not self._threads:
            self._start()
        if job.dir_fd != self._run_dir_fd:  # a new run: to the least busy writer
            self._run_dir_fd = job.dir_fd
            self._run_writer = min(range(self._thread_count), key=self._load.__getitem__)
        job.writer = self._run_writer
        self._load[job.writer] += 1
        self._queues[job.writer].put(job)
        self._queued += 1
        self._queued_bytes += len(job.data)
        while self._queued > MAX_QUEUED_FILES or self._queued_bytes > MAX_QUEUED_BYTES:
            self._reap_one()

    def drain(self) -> list[tuple[FileJob, BaseException]]:
        """Wait until every queued job is done; the failed ones, in the layer's order."""
        while self._queued:
            self._reap_one()
        failures, self._failures = self._failures, []
        failures.sort(key=lambda failed: failed[0].seq)
        return failures

    def close(self) -> None:
        """Skip whatever is still queued and stop the threads (waiting for a file being
        written: the caller closes the directories, or removes the tree, next)."""
        self._cancelled = True
        for jobs in self._queues[:len(self._threads)]:
            jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _start(self) -> None:
        for number in range(self._thread_count):
            thread = threading.Thread(target=self._work, args=(self._queues[number],),
                                      name=f"layer-writer-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _reap_one(self) -> None:
        job, error = self._done.get()
        self._load[job.writer] -= 1
        self._queued -= 1
        self._queued_bytes -= len(job.data)
        if error is not None:
            self._failures.append((job, error))

    def _work(self, jobs: queue.SimpleQueue[FileJob | None]) -> None:
        done, chown = self._done, self._chown
        while (job := jobs.get()) is not None:
            if self._cancelled:
                done.put((job, None))
                continue
            try:
                write_file(job, chown)
            except BaseException as error:  # handed to the extracting thread, which raises
                done.put((job, error))
            else:
                done.put((job, None))
