import ArgumentParser

struct Archbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archbench",
        abstract: "Benchmark a monolith against its microservices split, and explain the difference from the kernel's point of view.",
        discussion: """
            Exit codes: 0 ran and passed; 1 a validation failed or a critical regression was found; \
            2 usage or configuration error; 3 environment error (target unreachable, privilege or \
            kernel feature missing).
            """,
        subcommands: [RunCommand.self, LoadCommand.self, ProbeCommand.self, LeakHuntCommand.self, HistoryCommand.self, ReportCommand.self, ServeCommand.self]
    )
}
