#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Handles SIGINT/SIGTERM on a dispatch queue instead of dying, so a run can detach its probes or
/// stop its load and still report what it saw. Traps nest: every live trap's handler runs, and
/// `cancel` restores the disposition the signal had before this trap (an outer trap's, or the
/// default), so an inner step (one load of a suite) does not leave the outer one unprotected.
public final class SignalTrap {
    private let signals: [Int32]
    private let sources: [DispatchSourceSignal]
    private let previous: [sighandler_t?]

    public init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        previous = signals.map { signal($0, SIG_IGN) }
        sources = signals.map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    public func cancel() {
        sources.forEach { $0.cancel() }
        for (number, handler) in zip(signals, previous) {
            signal(number, handler ?? SIG_DFL)
        }
    }
}
