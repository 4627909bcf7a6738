#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import ArgumentParser
import Foundation
import Load
import Reports

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive HTTP/1.1 or WebSocket load at a URL, closed loop or at a fixed rate.",
        discussion: """
            Closed loop by default: every connection keeps --pipeline requests in flight. With --rate \
            the requests are scheduled at fixed intended starts and latency is measured from them \
            (coordinated-omission corrected) as well as from the actual send. With --ws (or a ws:// \
            URL) each message carries its sequence number and send time and is timed on its echo. \
            Ctrl-C stops the load and prints what was measured.
            """
    )

    @Argument(help: "http://HOST[:PORT]/PATH or ws://HOST[:PORT]/PATH")
    var url: String

    @Option(name: .shortAndLong, help: "Threads, each with its own epoll loop.")
    var threads = 2

    @Option(name: .shortAndLong, help: "Connections in total, spread over the threads.")
    var connections = 10

    @Option(name: [.customShort("d"), .long], help: "How long to run: seconds, or with a unit (500ms, 5s, 2m, 1h).")
    var duration = Seconds(10)

    @Option(help: ArgumentHelp("Requests (or messages) per second in total: open loop.", valueName: "req/s"))
    var rate: Double?

    @Option(help: "Stop after this many requests in total.")
    var requests: UInt64?

    @Option(help: "Seconds a request may stay in flight before it counts as a timeout.")
    var timeout = 2.0

    @Option(help: "Requests in flight per connection (HTTP pipelining).")
    var pipeline = 1

    @Flag(name: .customLong("close"), help: "Send Connection: close and reconnect after every response.")
    var closeEach = false

    @Option(name: [.customShort("H"), .customLong("header")], help: "An extra header line, \"Name: value\" (repeatable).")
    var headers: [String] = []

    @Option(name: [.customShort("X"), .customLong("method")], help: "The method for the URL's path.")
    var method = "GET"

    @Option(help: "A request body for the URL's path.")
    var body: String?

    @Option(help: ArgumentHelp("A weighted endpoint of the mix, \"WEIGHT METHOD PATH [BODY]\" (repeatable; replaces the URL's path).",
                               valueName: "endpoint"))
    var endpoint: [String] = []

    @Flag(name: .customLong("ws"), help: "WebSocket echo: time each message on its echo.")
    var websocket = false

    @Flag(name: .customLong("ws-text"), help: "Send text frames (the default is binary).")
    var websocketText = false

    @Option(name: .customLong("message-bytes"), help: "WebSocket payload size in bytes (at least the 24-byte stamp, 48 as text).")
    var messageBytes = 64

    @Flag(help: "Print the result as JSON (keys in docs/architecture.md) instead of the summary.")
    var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("-t/--threads must be at least 1") }
        guard connections >= threads else {
            throw ValidationError("-c/--connections (\(connections)) must be at least -t/--threads (\(threads))")
        }
        guard connections <= 1_000_000 else { throw ValidationError("-c/--connections \(connections) is too many") }
        guard duration.value <= 86_400 else {
            throw ValidationError("-d/--duration must be a positive number of seconds (at most a day)")
        }
        if let rate, !(rate > 0 && rate.isFinite) { throw ValidationError("--rate must be a positive number") }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
        guard (1...1024).contains(pipeline) else { throw ValidationError("--pipeline must be between 1 and 1024") }
        guard (1...(16 << 20)).contains(messageBytes) else { throw ValidationError("--message-bytes must be between 1 and 16 MiB") }
        if let requests, requests == 0 { throw ValidationError("--requests must be positive") }
        for header in headers where !header.contains(":") {
            throw ValidationError("-H/--header \"\(header)\" is not \"Name: value\"")
        }
    }

    func run() throws {
        var target = try LoadTarget.parse(url)
        if websocket { target.websocket = true }
        var config = LoadConfig(target: target)
        config.threads = threads
        config.connections = connections
        config.duration = duration.value
        config.rate = rate
        config.maxRequests = requests
        config.timeout = timeout
        config.pipelineDepth = pipeline
        config.closeEach = closeEach
        config.websocketText = websocketText
        config.messageBytes = messageBytes
        if !endpoint.isEmpty {
            config.endpoints = try endpoint.map { text throws(LoadError) in try LoadEndpoint.parse(text, headers: headers) }
        } else if !headers.isEmpty || method != "GET" || body != nil {
            config.endpoints = [LoadEndpoint(method: method, path: target.path, headers: headers, body: body)]
        }
        let live = isatty(STDERR_FILENO) == 1
        let result = try LoadGenerator.run(config) { progress in
            guard live else { return }
            let line = String(format: "\r[%5.1f / %.0f s] %llu done, %.0f/s, %llu errors   ", progress.elapsedSeconds,
                              duration.value, progress.completed,
                              progress.elapsedSeconds > 0 ? Double(progress.completed) / progress.elapsedSeconds : 0,
                              progress.errors)
            FileHandle.standardError.write(Data(line.utf8))
        }
        if live { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(json ? try result.json() : result.text())
    }
}

/// A duration argument: plain seconds, or a number with ms, s, m or h (wrk's spelling).
struct Seconds: ExpressibleByArgument {
    let value: Double

    init(_ value: Double) { self.value = value }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        let (number, scale) = units.first { argument.hasSuffix($0.0) }
            .map { (String(argument.dropLast($0.0.count)), $0.1) } ?? (argument, 1)
        guard let parsed = Double(number), parsed > 0, parsed.isFinite else { return nil }
        value = parsed * scale
    }

    var defaultValueDescription: String { "\(value)" }
}
