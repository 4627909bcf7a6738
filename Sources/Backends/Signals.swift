#if canImport(Glibc)
import Glibc
#endif

/// The signals a server handles itself. They are blocked in every thread (the mask is set on the main
/// thread before any other thread starts, and threads inherit it), and the main thread takes them
/// with `sigtimedwait`: no handler runs in a random thread, and the gateway also learns of its
/// children's deaths (SIGCHLD) in the one thread that starts and reaps them.
enum Signals {
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGCHLD]

    /// Blocks the handled signals in the calling thread (and so in the threads it starts later), and
    /// ignores SIGPIPE: a client that hangs up is an error on its socket, not the end of the server.
    static func takeOver() {
        var set = handledSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Waits up to `timeout` for a handled signal; nil when none came.
    static func wait(timeout: Duration) -> Int32? {
        var set = handledSet()
        let (seconds, attoseconds) = timeout.components
        var limit = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        let signal = sigtimedwait(&set, nil, &limit)
        return signal > 0 ? signal : nil
    }

    private static func handledSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        return set
    }
}
