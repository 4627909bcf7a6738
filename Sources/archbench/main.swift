#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import ArgumentParser

/// The entry point maps every failure to a documented exit code (DESIGN.md): argument errors are 2
/// (swift-argument-parser would use 64), and errors from the libraries carry their own code.
func runArchbench() -> Never {
    do {
        var command = try Archbench.parseAsRoot()
        try command.run()
        exit(ArchbenchExitCode.success.rawValue)
    } catch let failure as ArchbenchFailure {
        Console.error("archbench: error: \(failure)")
        exit(failure.exitCode.rawValue)
    } catch {
        let parserCode = Archbench.exitCode(for: error)
        if parserCode == .success || error is ExitCode {
            Archbench.exit(withError: error)  // --help, or an explicit exit code
        }
        Console.error(Archbench.fullMessage(for: error))
        exit(parserCode == .validationFailure ? ArchbenchExitCode.usage.rawValue : ArchbenchExitCode.environment.rawValue)
    }
}

runArchbench()
