import ArchbenchCore
import ArgumentParser
import Backends

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the embedded reference backends: a monolith, or the same API split into microservices.",
        discussion: """
            Both serve GET /health, GET /api/users[/ID], GET /api/items[?limit=N] and /api/items/ID, \
            POST /api/orders and GET /api/orders/ID, POST /train, and WebSocket echo on /ws and a \
            broadcast channel on /ws/broadcast, on 127.0.0.1. They run until SIGTERM or SIGINT. \
            --port 0 picks a free port; the port is printed on stderr.
            """,
        subcommands: [Monolith.self, Microservices.self, Service.self]
    )
}

/// The fault-injection flags, shared by every architecture.
struct FaultOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Bytes allocated, written and retained forever per request.", valueName: "[service:]bytes"))
    var leakBytesPerRequest: String?

    @Option(help: ArgumentHelp("Start a stop-the-world pause every this many ms.", valueName: "[service:]ms"))
    var pauseEveryMs: String?

    @Option(help: ArgumentHelp("Length of each pause: every request thread blocks while one thread churns memory.", valueName: "ms"))
    var pauseMs: String?

    @Option(help: ArgumentHelp("Answer requests to --slow-path (and below it) this many ms later.", valueName: "[service:]ms"))
    var slowMs: String?

    @Option(help: ArgumentHelp("The path --slow-ms slows down, e.g. /api/users.", valueName: "path"))
    var slowPath: String?

    @Option(help: ArgumentHelp("Fail this fraction of requests with a 500 (GET /health is exempt).", valueName: "[service:]probability"))
    var errorRate: String?

    var flags: FaultFlags {
        FaultFlags(leakBytesPerRequest: leakBytesPerRequest, pauseEveryMs: pauseEveryMs, pauseMs: pauseMs,
                   slowMs: slowMs, slowPath: slowPath, errorRate: errorRate)
    }

    func plan(servicePrefixes: Bool) throws -> FaultPlan {
        do {
            return try FaultPlan.parse(flags, servicePrefixes: servicePrefixes)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

private func checkPort(_ port: Int, _ flag: String) throws {
    guard (0...65_535).contains(port) else {
        throw ValidationError("\(flag) \(port) must be a TCP port from 0 to 65535 (0: any free port)")
    }
}

private func checkUpstreamTimeout(_ ms: Int) throws {
    let range = ReferenceBackends.upstreamTimeoutMsRange
    guard range.contains(ms) else {
        throw ValidationError("--upstream-timeout-ms \(ms) must be from \(range.lowerBound) to \(range.upperBound)")
    }
}

private func log(_ line: String) { Console.error("archbench serve: \(line)") }

extension ServeCommand {
    struct Monolith: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One multi-threaded process serving the whole API and the WebSocket endpoints.")

        @Option(help: "The port on 127.0.0.1.")
        var port = 8080

        @OptionGroup(title: "Fault injection")
        var faults: FaultOptions

        func validate() throws {
            try checkPort(port, "--port")
            _ = try faults.plan(servicePrefixes: false)
        }

        func run() throws {
            try ReferenceBackends.runMonolith(port: port, faults: faults.plan(servicePrefixes: false).spec(for: .gateway), log: log)
        }
    }

    struct Microservices: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An API gateway forwarding to users/items, orders and training services, plus a WebSocket service.",
            discussion: """
                Each service is a child process of the gateway, which restarts a service that dies \
                (answering 502 naming it meanwhile) and gives up, exiting with 3, after 5 deaths of \
                one service within a minute. SIGTERM or SIGINT is passed on to the services; a \
                killed gateway takes them down too. A fault flag's value may start with a service \
                name (gateway, users, orders, training, ws) and a colon to target that service, e.g. \
                --error-rate orders:0.2; without one it targets the gateway.
                """)

        @Option(help: "The gateway's port on 127.0.0.1.")
        var port = 8081

        @Option(help: "The WebSocket service's port on 127.0.0.1.")
        var wsPort = 8082

        @Option(help: "Keep-alive connections per service per gateway event loop.")
        var poolSize = ReferenceBackends.defaultPoolSize

        @Option(help: ArgumentHelp("""
            How long the gateway waits for a service's answer before it answers 504 naming the \
            service (the orders service waits as long for users).
            """, valueName: "ms"))
        var upstreamTimeoutMs = ReferenceBackends.defaultUpstreamTimeoutMs

        @OptionGroup(title: "Fault injection")
        var faults: FaultOptions

        func validate() throws {
            try checkPort(port, "--port")
            try checkPort(wsPort, "--ws-port")
            if port != 0 && port == wsPort { throw ValidationError("--port and --ws-port are both \(port)") }
            guard (1...1_000).contains(poolSize) else { throw ValidationError("--pool-size \(poolSize) must be from 1 to 1000") }
            try checkUpstreamTimeout(upstreamTimeoutMs)
            _ = try faults.plan(servicePrefixes: true)
        }

        func run() throws {
            try ReferenceBackends.runMicroservices(port: port, wsPort: wsPort, poolSize: poolSize,
                                                   upstreamTimeoutMs: upstreamTimeoutMs,
                                                   faults: faults.plan(servicePrefixes: true), log: log)
        }
    }

    /// One service of the microservices set; the gateway starts these.
    struct Service: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One service of the microservices set (started by the gateway).", shouldDisplay: false)

        @Argument(help: "users, orders, training or ws.")
        var name: String

        @Option var port = 0
        @Option(help: "Where the orders service finds users: users=PORT.") var upstream: String?
        @Option var poolSize = ReferenceBackends.defaultPoolSize
        @Option var upstreamTimeoutMs = ReferenceBackends.defaultUpstreamTimeoutMs
        @Option(help: "A descriptor to write `ready PORT` (or `error CODE MESSAGE`) to.") var readyFd: Int32?

        @OptionGroup(title: "Fault injection")
        var faults: FaultOptions

        func validate() throws {
            guard let service = ServiceName(rawValue: name), service != .gateway else {
                throw ValidationError("unknown service \(name) (one of users, orders, training, ws)")
            }
            try checkPort(port, "--port")
            try checkUpstreamTimeout(upstreamTimeoutMs)
            if let upstream, usersPort(upstream) == nil {
                throw ValidationError("--upstream \(upstream) must be users=PORT")
            }
            _ = try faults.plan(servicePrefixes: false)
        }

        private func usersPort(_ text: String) -> Int? {
            guard text.hasPrefix("users="), let port = Int(text.dropFirst(6)), (1...65_535).contains(port) else { return nil }
            return port
        }

        func run() throws {
            try ReferenceBackends.runService(ServiceName(rawValue: name)!, port: port, usersPort: upstream.flatMap(usersPort),
                                             poolSize: poolSize, upstreamTimeoutMs: upstreamTimeoutMs,
                                             faults: faults.plan(servicePrefixes: false).spec(for: .gateway),
                                             readyFD: readyFd, log: { Console.error("archbench serve \(name): \($0)") })
        }
    }
}
