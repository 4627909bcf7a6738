#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation

/// Handles SIGINT/SIGTERM on a dispatch queue instead of dying, so a run can detach its probes or
/// stop its load and still report what it saw. Traps nest (the suite's around each of its loads):
/// every live trap's handler runs; the signal's disposition changes with the first trap and goes
/// back with the last.
///
/// A process-wide signal handler writes the signal's number to a pipe, and a dispatch source reads
/// it (the self-pipe pattern). A dispatch signal source alone is not enough here: it needs the signal
/// ignored, and a signal sent to the process goes to any thread not blocking it, where "ignored"
/// means dropped; in a process with many threads (a test runner) most signals were lost that way.
public final class SignalTrap: @unchecked Sendable {
    private let signals: [Int32]
    private let id = UUID()
    private var cancelled = false

    public init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        Self.lock.withLock {
            Self.openPipe()
            for number in signals {
                if Self.handlers[number] == nil {
                    Self.handlers[number] = [:]
                    Self.previous[number] = Self.installHandler(number)
                }
                Self.handlers[number]?[id] = handler
            }
        }
    }

    public func cancel() {
        Self.lock.withLock {
            guard !cancelled else { return }
            cancelled = true
            for number in signals {
                Self.handlers[number]?[id] = nil
                if Self.handlers[number]?.isEmpty == true {
                    Self.handlers[number] = nil
                    if var old = Self.previous.removeValue(forKey: number) {
                        sigaction(number, &old, nil)
                    }
                }
            }
        }
    }

    // MARK: - One handler per signal, one pipe for them all

    private static let lock = NSLock()
    nonisolated(unsafe) private static var handlers: [Int32: [UUID: @Sendable (Int32) -> Void]] = [:]
    nonisolated(unsafe) private static var previous: [Int32: sigaction] = [:]
    nonisolated(unsafe) private static var reader: DispatchSourceRead?

    /// Made once and kept for the process's life; call holding `lock`.
    private static func openPipe() {
        guard reader == nil else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        signalPipeWrite = fds[1]
        let source = DispatchSource.makeReadSource(fileDescriptor: fds[0], queue: .global())
        source.setEventHandler {
            var bytes = [UInt8](repeating: 0, count: 64)
            let count = read(fds[0], &bytes, bytes.count)
            guard count > 0 else { return }
            for number in bytes.prefix(count).map(Int32.init) {
                let run = lock.withLock { handlers[number].map { Array($0.values) } ?? [] }
                run.forEach { $0(number) }
            }
        }
        source.resume()
        reader = source
    }

    /// Installs the handler that forwards `number` to the pipe; returns the disposition it replaced.
    private static func installHandler(_ number: Int32) -> sigaction {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in
            var byte = UInt8(truncatingIfNeeded: number)
            let saved = errno
            _ = write(signalPipeWrite, &byte, 1)
            errno = saved
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        var old = sigaction()
        sigaction(number, &action, &old)
        return old
    }
}

/// The pipe's write end, read by the signal handler (which can capture nothing).
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// The usual name of a signal that ends or stops a process (`SIGKILL`), else `signal N`: how
/// archbench names a signal in its messages.
public func signalName(_ number: Int32) -> String {
    let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
                                  SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
                                  SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM",
                                  SIGTERM: "SIGTERM", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2", SIGXCPU: "SIGXCPU",
                                  SIGXFSZ: "SIGXFSZ"]
    return names[number] ?? "signal \(number)"
}
