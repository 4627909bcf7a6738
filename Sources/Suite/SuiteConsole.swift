import Foundation

/// The suite's console, in the seed's words: phases, a line per finished benchmark, the summary.
/// Human lines go to stdout, or to stderr with `--json` (stdout then carries only the summary
/// document). On a terminal a live progress line is redrawn in place; elsewhere it is left out.
final class SuiteConsole: @unchecked Sendable {
    private let handle: FileHandle
    private let terminal: Bool
    private let lock = NSLock()
    private var progressShown = false

    init(json: Bool) {
        handle = json ? .standardError : .standardOutput
        terminal = isatty(json ? 2 : 1) == 1
    }

    /// Whether the live line is drawn (stdout, or stderr with --json, is a terminal).
    var isTerminal: Bool { terminal }

    func line(_ text: String) {
        lock.withLock {
            clearProgress()
            handle.write(Data((text + "\n").utf8))
        }
    }

    /// The live line: benchmark, architecture, elapsed/total, current rate.
    func progress(_ text: String) {
        guard terminal else { return }
        lock.withLock {
            handle.write(Data(("\r\u{1B}[K" + text).utf8))
            progressShown = true
        }
    }

    private func clearProgress() {
        if progressShown {
            handle.write(Data("\r\u{1B}[K".utf8))
            progressShown = false
        }
    }

    static let rule = String(repeating: "=", count: 80)
}
