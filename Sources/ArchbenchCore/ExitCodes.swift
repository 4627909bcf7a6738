/// The exit codes archbench documents (docs/architecture.md, README), so CI can gate on them.
public enum ArchbenchExitCode: Int32, Sendable {
    /// Ran; every validation passed, no critical regression.
    case success = 0
    /// Ran; a validation failed or a critical regression was found (the CI gate).
    case validationFailed = 1
    /// Usage or configuration error: nothing was run, nothing written.
    case usage = 2
    /// Environment error: a target unreachable, a required privilege or kernel feature missing.
    case environment = 3
}

/// An error that knows which documented exit code it ends the program with.
public protocol ArchbenchFailure: Error, CustomStringConvertible {
    var exitCode: ArchbenchExitCode { get }
}

/// A failure described by its message alone, for errors that need no structure of their own.
public struct ArchbenchError: ArchbenchFailure {
    public let exitCode: ArchbenchExitCode
    public let description: String

    public static func usage(_ message: String) -> ArchbenchError {
        ArchbenchError(exitCode: .usage, description: message)
    }

    public static func environment(_ message: String) -> ArchbenchError {
        ArchbenchError(exitCode: .environment, description: message)
    }
}
