import Dispatch
import Foundation

/// Raised once, by whichever comes first (a signal, a child's exit, a caller); the first reason is
/// kept. It is also the one wait loop of a run: `poll` wakes on a raise at once, and otherwise every
/// slice, to drain buffers and show progress.
public final class StopFlag<Reason: Sendable>: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var first: Reason?

    public init() {}

    /// The first reason raised, nil while none was.
    public var reason: Reason? { lock.withLock { first } }

    public var isRaised: Bool { reason != nil }

    public func raise(_ reason: Reason) {
        lock.withLock { if first == nil { first = reason } }
        semaphore.signal()
    }

    /// Calls `tick` after every slice (`slice()` seconds, asked anew each time) until the flag is
    /// raised or `tick` returns a reason to stop, and returns that reason. A raise between two ticks
    /// ends the wait at once.
    public func poll(slice: () -> Double, _ tick: () -> Reason?) -> Reason {
        while true {
            if semaphore.wait(timeout: .now() + slice()) == .success, let reason {
                return reason
            }
            if let reason { return reason }
            if let stop = tick() {
                raise(stop)
                return self.reason ?? stop
            }
        }
    }
}
