#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation

/// Handles SIGINT/SIGTERM on a dispatch queue instead of dying, so a run can detach its probes or
/// stop its load and still report what it saw. Traps nest (the suite's around each of its loads):
/// every live trap's handler runs, and the signal's disposition changes only with the first trap and
/// back with the last. (A second `signal(SIG_IGN)` would replace the handler libdispatch installed
/// for the first trap's source, and the signal would then be dropped.)
public final class SignalTrap: @unchecked Sendable {
    private let signals: [Int32]
    private let id = UUID()
    private var cancelled = false

    public init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        Self.lock.withLock {
            for number in signals {
                var trap = Self.traps[number] ?? Self.install(number)
                trap.handlers[id] = handler
                Self.traps[number] = trap
            }
        }
    }

    public func cancel() {
        Self.lock.withLock {
            guard !cancelled else { return }
            cancelled = true
            for number in signals {
                guard var trap = Self.traps[number] else { continue }
                trap.handlers[id] = nil
                if trap.handlers.isEmpty {
                    trap.source.cancel()
                    signal(number, trap.previous ?? SIG_DFL)
                    Self.traps[number] = nil
                } else {
                    Self.traps[number] = trap
                }
            }
        }
    }

    // MARK: - One dispatch source per signal, shared by the live traps

    private struct Installed {
        let source: DispatchSourceSignal
        let previous: sighandler_t?
        var handlers: [UUID: @Sendable (Int32) -> Void] = [:]
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var traps: [Int32: Installed] = [:]

    private static func install(_ number: Int32) -> Installed {
        let previous = signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
            let handlers = lock.withLock { traps[number].map { Array($0.handlers.values) } ?? [] }
            handlers.forEach { $0(number) }
        }
        source.resume()
        return Installed(source: source, previous: previous)
    }
}
