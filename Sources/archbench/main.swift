#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import ArgumentParser

/// The entry point maps every failure to a documented exit code (docs/architecture.md): argument errors are 2
/// (swift-argument-parser would use 64), and errors from the libraries carry their own code.
func runArchbench() -> Never {
    do {
        var command = try Archbench.parseAsRoot(splittingAttachedValues(Array(CommandLine.arguments.dropFirst())))
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

/// wrk users type `-t2 -c50 -d5s`; swift-argument-parser reads `-t2` as combined flags. Split the
/// attached values of the load options (up to a `--`) so both spellings work.
func splittingAttachedValues(_ arguments: [String]) -> [String] {
    var result: [String] = []
    var passThrough = false
    for argument in arguments {
        if argument == "--" { passThrough = true }
        if !passThrough, argument.count > 2, argument.hasPrefix("-"), !argument.hasPrefix("--"),
           let flag = argument.dropFirst().first, "tcd".contains(flag) {
            result.append(String(argument.prefix(2)))
            result.append(String(argument.dropFirst(2)))
        } else {
            result.append(argument)
        }
    }
    return result
}

runArchbench()
