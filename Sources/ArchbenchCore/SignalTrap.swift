#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Handles SIGINT/SIGTERM on a dispatch queue instead of dying, so a run can detach its probes or
/// stop its load and still report what it saw; `cancel` restores the default actions.
public final class SignalTrap {
    private let signals: [Int32]
    private let sources: [DispatchSourceSignal]

    public init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    public func cancel() {
        sources.forEach { $0.cancel() }
        signals.forEach { signal($0, SIG_DFL) }
    }
}

