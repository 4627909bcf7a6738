import Analysis
import ArchbenchCore
import Foundation
import Load
@testable import Suite
import TestSupport
import XCTest

/// `archbench run --config`: the committed configs, the embedded default, and one test per validation
/// error, each naming its JSON path and exiting 2.
final class ConfigTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let defaultFile = repository.appending(path: "config/default.json").path
    static let externalFile = repository.appending(path: "config/external.json").path

    /// A resolver that does not depend on this machine's PATH: `archbench` is not on it.
    static let resolver = ExecutableResolver(searchPath: ["/nonexistent"], workingDirectory: "/",
                                             ownExecutable: "/opt/archbench/bin/archbench")

    // MARK: The committed configs and the embedded default

    func testDefaultFileIsTheEmbeddedDefault() throws {
        let config = try RunConfig.parse(Data(contentsOf: URL(fileURLWithPath: Self.defaultFile)),
                                         source: "default.json", resolver: Self.resolver)
        var embedded = RunConfig.embedded(executable: "/opt/archbench/bin/archbench", monolithPort: 8080,
                                          microservicesPort: 8081, websocketPort: 8082)
        XCTAssertEqual(embedded.digest, "embedded")
        // The history tells configs apart by the file's bytes.
        XCTAssertEqual(config.digest, "fnv1a64:" + String(format: "%016llx", FNV1a.hash(try Data(contentsOf: URL(fileURLWithPath: Self.defaultFile)))))
        embedded.digest = config.digest
        XCTAssertEqual(config, embedded)
        XCTAssertEqual(config.architectures.map(\.name), ["monolithic", "microservices"])
        XCTAssertEqual(config.baseline.baseURL, LoadTarget(host: "127.0.0.1", port: 8080, path: "/"))
        XCTAssertEqual(config.baseline.websocketURL, LoadTarget(host: "127.0.0.1", port: 8080, path: "/ws", websocket: true))
        XCTAssertEqual(config.baseline.connectionPoolSize, 20)
        XCTAssertEqual(config.baseline.compression, false)
        XCTAssertEqual(config.baseline.circuitBreaker, false)
        XCTAssertEqual(config.baseline.processes, .command(["/opt/archbench/bin/archbench", "serve", "monolith", "--port", "8080"]))
        XCTAssertEqual(config.candidate.baseURL, LoadTarget(host: "127.0.0.1", port: 8081, path: "/"))
        XCTAssertEqual(config.candidate.websocketURL, LoadTarget(host: "127.0.0.1", port: 8082, path: "/ws", websocket: true))
        XCTAssertEqual(config.candidate.connectionPoolSize, 10)
        XCTAssertEqual(config.candidate.compression, false)
        XCTAssertEqual(config.candidate.circuitBreaker, true)
        XCTAssertEqual(config.candidate.processes, .command(["/opt/archbench/bin/archbench", "serve", "microservices",
                                                             "--port", "8081", "--ws-port", "8082"]))
        XCTAssertEqual(config.architectures.map(\.readyTimeout), [30, 30])
        XCTAssertEqual(config.thresholds, RunConfig.seedThresholds)
        XCTAssertEqual(config.thresholds["throughput"], ThresholdSpec(warning: -5, critical: -15))
        XCTAssertEqual(config.thresholds["latency"], ThresholdSpec(warning: 10, critical: 25))
        XCTAssertEqual(config.thresholds["memory"], ThresholdSpec(warning: 20, critical: 50))
        XCTAssertEqual(config.thresholds["success_rate"], ThresholdSpec(warning: -2, critical: -5))
    }

    /// Each spawned server listens where its URLs point: `--port` is base_url's port, and the
    /// WebSocket port is `--ws-port` (microservices) or `--port` (the monolith).
    func testDefaultFileCommandsServeTheirURLsPorts() throws {
        let config = try RunConfig.parse(Data(contentsOf: URL(fileURLWithPath: Self.defaultFile)),
                                         source: "default.json", resolver: Self.resolver)
        for architecture in config.architectures {
            guard case .command(let argv) = architecture.processes else { return XCTFail(architecture.name) }
            func flag(_ name: String) -> UInt16? { argv.firstIndex(of: name).flatMap { UInt16(argv[$0 + 1]) } }
            let port = try XCTUnwrap(flag("--port"), architecture.name)
            XCTAssertEqual(architecture.baseURL.port, port, architecture.name)
            XCTAssertEqual(architecture.websocketURL.port, flag("--ws-port") ?? port, architecture.name)
            XCTAssertEqual(architecture.websocketURL.path, "/ws", architecture.name)
        }
    }

    /// With the real PATH: a bare `archbench` resolves to this process's executable, absolute.
    func testDefaultFileLoadsWithThisMachinesPath() throws {
        let config = try RunConfig.load(path: Self.defaultFile)
        for architecture in config.architectures {
            guard case .command(let argv) = architecture.processes else { return XCTFail(architecture.name) }
            XCTAssertTrue(argv[0].hasPrefix("/"), argv[0])
            XCTAssertTrue(FileManager.default.isExecutableFile(atPath: argv[0]), argv[0])
        }
    }

    func testExternalFileFindsRunningServersByPortAndByURLPorts() throws {
        let config = try RunConfig.load(path: Self.externalFile)
        XCTAssertEqual(config.baseline.name, "monolithic")
        XCTAssertEqual(config.baseline.baseURL, LoadTarget(host: "127.0.0.1", port: 8080, path: "/"))
        XCTAssertEqual(config.baseline.websocketURL, LoadTarget(host: "127.0.0.1", port: 8080, path: "/ws", websocket: true))
        XCTAssertEqual(config.baseline.connectionPoolSize, 20)
        XCTAssertEqual(config.baseline.processes, .ports([8080]))
        XCTAssertEqual(config.baseline.readyTimeout, 5)
        XCTAssertEqual(config.candidate.name, "microservices")
        XCTAssertEqual(config.candidate.baseURL, LoadTarget(host: "127.0.0.1", port: 8081, path: "/"))
        XCTAssertEqual(config.candidate.websocketURL, LoadTarget(host: "127.0.0.1", port: 8082, path: "/ws", websocket: true))
        XCTAssertEqual(config.candidate.connectionPoolSize, 10)
        XCTAssertEqual(config.candidate.compression, false)
        XCTAssertEqual(config.candidate.circuitBreaker, true)
        XCTAssertEqual(config.candidate.processes, .urlPorts)
        XCTAssertEqual(config.candidate.urlPorts, [8081, 8082])
        XCTAssertEqual(config.candidate.readyTimeout, 5)
        XCTAssertEqual(config.thresholds, [:])
    }

    func testEmbeddedDefaultSpawnsTheGivenExecutableOnTheGivenPorts() {
        let config = RunConfig.embedded(executable: "/x/archbench", monolithPort: 41000, microservicesPort: 41001, websocketPort: 41002)
        XCTAssertEqual(config.baseline.processes, .command(["/x/archbench", "serve", "monolith", "--port", "41000"]))
        XCTAssertEqual(config.candidate.processes, .command(["/x/archbench", "serve", "microservices",
                                                             "--port", "41001", "--ws-port", "41002"]))
        XCTAssertEqual(config.baseline.baseURL.description, "http://127.0.0.1:41000/")
        XCTAssertEqual(config.baseline.websocketURL.description, "ws://127.0.0.1:41000/ws")
        XCTAssertEqual(config.candidate.baseURL.description, "http://127.0.0.1:41001/")
        XCTAssertEqual(config.candidate.websocketURL.description, "ws://127.0.0.1:41002/ws")
        XCTAssertEqual(config.baseline.urlPorts, [41000])
        XCTAssertEqual(config.candidate.urlPorts, [41001, 41002])
        XCTAssertEqual(config.thresholds, RunConfig.seedThresholds)
    }

    func testFreeLoopbackPortsAreDistinctAndBindable() throws {
        let single = try freeLoopbackPort()
        XCTAssertGreaterThan(single, 0)
        let ports = try freeLoopbackPorts(3)
        XCTAssertEqual(Set(ports).count, 3)
        for port in ports {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            XCTAssertEqual(bound, 0, "port \(port)")
        }
    }

    // MARK: Order, defaults, resolution

    func testTheFirstArchitectureIsTheBaselineWhateverItsName() throws {
        let config = try parse(#"{"thresholds": {}, "b": {\#(Self.valid(port: 9001))}, "a": {\#(Self.valid(port: 9002))}}"#)
        XCTAssertEqual(config.baseline.name, "b")
        XCTAssertEqual(config.candidate.name, "a")
        XCTAssertEqual(config.architectures.map(\.baseURL.port), [9001, 9002])
        let reversed = try parse(#"{"a": {\#(Self.valid(port: 9002))}, "b": {\#(Self.valid(port: 9001))}}"#)
        XCTAssertEqual(reversed.architectures.map(\.name), ["a", "b"])
    }

    func testOptionalKeysDefault() throws {
        let config = try parse(Self.config(b: [:]))
        XCTAssertEqual(config.candidate, ArchitectureSpec(
            name: "b", baseURL: LoadTarget(host: "127.0.0.1", port: 9002, path: "/"),
            websocketURL: LoadTarget(host: "127.0.0.1", port: 9002, path: "/ws", websocket: true),
            connectionPoolSize: 4, compression: false, circuitBreaker: false, processes: .urlPorts, readyTimeout: 30))
        XCTAssertEqual(config.thresholds, [:])
    }

    func testEveryKeyIsRead() throws {
        let config = try parse(Self.config(b: ["base_url": #""http://localhost:7000/api?x=1""#, "websocket_url": #""ws://localhost:7001/echo""#,
                                               "connection_pool_size": "64", "compression": "true", "circuit_breaker": "true",
                                               "ready_timeout_s": "2.5", "processes": #"{"cgroup": "archbench/b"}"#],
                                               thresholds: #"{"latency": {"warning": 1.5, "critical": 3e1}}"#))
        XCTAssertEqual(config.candidate.baseURL, LoadTarget(host: "localhost", port: 7000, path: "/api?x=1"))
        XCTAssertEqual(config.candidate.websocketURL, LoadTarget(host: "localhost", port: 7001, path: "/echo", websocket: true))
        XCTAssertEqual(config.candidate.connectionPoolSize, 64)
        XCTAssertTrue(config.candidate.compression)
        XCTAssertTrue(config.candidate.circuitBreaker)
        XCTAssertEqual(config.candidate.readyTimeout, 2.5)
        XCTAssertEqual(config.candidate.processes, .cgroup("archbench/b"))
        XCTAssertEqual(config.thresholds, ["latency": ThresholdSpec(warning: 1.5, critical: 30)])
        XCTAssertEqual(try parse(Self.config(b: ["processes": #"{"pid": [1, 4194304]}"#])).candidate.processes, .pids([1, 4194304]))
        XCTAssertEqual(try parse(Self.config(b: ["processes": #"{"port": [1, 65535]}"#])).candidate.processes, .ports([1, 65535]))
    }

    func testABareProgramIsLookedUpOnPath() throws {
        let resolver = ExecutableResolver(searchPath: ["/nonexistent", "", "/usr/bin", "/bin"], workingDirectory: "/tmp", ownExecutable: "/own")
        let config = try parse(Self.config(b: ["command": #"["sh", "-c", "exit 0"]"#]), resolver: resolver)
        guard case .command(let argv) = config.candidate.processes else { return XCTFail() }
        XCTAssertTrue(["/usr/bin/sh", "/bin/sh"].contains(argv[0]), argv[0])
        XCTAssertEqual(Array(argv.dropFirst()), ["-c", "exit 0"])
        // The public entry, with this process's PATH.
        let real = try RunConfig.parse(Data(Self.config(b: ["command": #"["sh"]"#]).utf8), source: "cfg.json")
        guard case .command(let realArgv) = real.candidate.processes else { return XCTFail() }
        XCTAssertTrue(realArgv[0].hasPrefix("/") && realArgv[0].hasSuffix("/sh"), realArgv[0])
    }

    func testARelativeProgramIsResolvedAgainstTheWorkingDirectory() throws {
        let directory = try temporaryDirectory("archbench-config").path
        let program = try makeFile(in: directory, "server", mode: 0o755)
        let resolver = ExecutableResolver(searchPath: [], workingDirectory: directory + "/sub/..", ownExecutable: "/own")
        let config = try parse(Self.config(b: ["command": #"["./server", "--flag"]"#]), resolver: resolver)
        XCTAssertEqual(config.candidate.processes, .command([program, "--flag"]))
    }

    func testBareArchbenchIsThisExecutableWhateverPathHolds() throws {
        let notOnPath = ExecutableResolver(searchPath: ["/nonexistent"], workingDirectory: "/", ownExecutable: "/own/archbench")
        XCTAssertEqual(try parse(Self.config(b: ["command": #"["archbench", "serve"]"#]), resolver: notOnPath).candidate.processes,
                       .command(["/own/archbench", "serve"]))
        let directory = try temporaryDirectory("archbench-config").path
        _ = try makeFile(in: directory, "archbench", mode: 0o755)
        let onPath = ExecutableResolver(searchPath: [directory], workingDirectory: "/", ownExecutable: "/own/archbench")
        XCTAssertEqual(try parse(Self.config(b: ["command": #"["archbench", "serve"]"#]), resolver: onPath).candidate.processes,
                       .command(["/own/archbench", "serve"]), "another archbench on PATH is not this build")
        // The real one: this process's executable, absolute.
        let own = ExecutableResolver.current().ownExecutable
        XCTAssertTrue(own.hasPrefix("/") && FileManager.default.isExecutableFile(atPath: own), own)
    }

    func testEscapesAndUnicodeAreRead() throws {
        let config = try parse(Self.config(b: ["base_url": #""http:\/\/127.0.0.1:9002\u002fx""#,
                                               "command": #"["\/bin\/sh", "caf\u00e9 \ud83d\ude00 \"q\" \\ \t\n"]"#]))
        XCTAssertEqual(config.candidate.baseURL.path, "/x")
        XCTAssertEqual(config.candidate.processes, .command(["/bin/sh", "café 😀 \"q\" \\ \t\n"]))
    }

    /// The reader against Foundation's writer: random strings (quotes, backslashes, control
    /// characters, astral scalars) and numbers come back as written.
    func testTheReaderReadsWhatJSONSerializationWrites() throws {
        var generator = SystemRandomNumberGenerator()
        let pool: [Unicode.Scalar] = ["\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", "a", "é", "\u{2028}", "€", "😀", "𝄞"]
        for _ in 0..<200 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...12, using: &generator) { text.append(pool.randomElement(using: &generator)!) }
            let string = String(text)
            let number = Int.random(in: -1_000_000...1_000_000, using: &generator)
            let data = try JSONSerialization.data(withJSONObject: ["s": string, "n": number, "list": [string, true, NSNull()] as [Any]])
            guard case .object(let members) = try ConfigJSON.parse(data) else { return XCTFail() }
            let byKey = Dictionary(uniqueKeysWithValues: members.map { ($0.key, $0.value) })
            guard case .string(let read) = byKey["s"], case .number(let readNumber) = byKey["n"],
                  case .array(let list) = byKey["list"], list.count == 3, case .string(let again) = list[0],
                  case .bool(true) = list[1], case .null = list[2]
            else { return XCTFail(String(decoding: data, as: UTF8.self)) }
            XCTAssertEqual(read, string, String(decoding: data, as: UTF8.self))
            XCTAssertEqual(again, string)
            XCTAssertEqual(Int(readNumber), number)
        }
    }

    // MARK: Each validation error: its JSON path, exit 2

    func testTheSeedsExampleMessage() {
        let error = parseError(Self.config(b: ["base_url": "42"], names: ("monolithic", "microservices")))
        XCTAssertEqual(error?.description, "cfg.json: microservices.base_url: expected a string, got 42")
        XCTAssertEqual(error?.exitCode, .usage)
    }

    func testMissingFile() throws {
        let path = try temporaryDirectory("archbench-config").path + "/absent.json"
        XCTAssertThrowsError(try RunConfig.load(path: path)) { error in
            let error = error as? ConfigError
            XCTAssertEqual(error?.path, "")
            XCTAssertEqual(error?.file, path)
            XCTAssertEqual(error?.exitCode, .usage)
            XCTAssertEqual(error?.description, "\(path): cannot read the config file: No such file or directory")
        }
        let directory = try temporaryDirectory("archbench-config").path
        XCTAssertThrowsError(try RunConfig.load(path: directory)) { error in
            let error = error as? ConfigError
            XCTAssertEqual(error?.path, "")
            XCTAssertEqual(error?.description, "\(directory): cannot read the config file: it is a directory")
        }
    }

    func testNotJSONGivesThePosition() {
        assertError("{\n  \"a\": {,}\n}", path: "", message: "not JSON: line 2, column 9: expected a key in double quotes, found ','")
        assertError(#"{"a": {"x": 1,}}"#, path: "", message: "not JSON: line 1, column 15: expected a key in double quotes, found '}'")
        assertError(#"{"a": [1 2]}"#, path: "", message: "not JSON: line 1, column 10: expected ',' or ']' in an array, found '2'")
        assertError(#"{"a": 01}"#, path: "", message: "not JSON: line 1, column 7: a number must not start with 0")
        assertError(#"{"a": "\x"}"#, path: "", message: #"not JSON: line 1, column 9: unknown escape \x in a string"#)
        assertError(#"{"a": "open}"#, path: "", message: "not JSON: line 1, column 7: a string is not closed")
        assertError(#"{"a": "\ud800"}"#, path: "", message: "half of a surrogate pair")
        assertError(#"{"a": tru}"#, path: "", message: "not JSON: line 1, column 7: expected a value, found 't'")
        assertError(#"{} x"#, path: "", message: "not JSON: line 1, column 4: unexpected 'x' after the end of the top-level value")
        assertError("{\"é\": \"\u{1}\"}", path: "", message: "not JSON: line 1, column 8: a control character (U+0001) in a string must be escaped")
        assertError(#"// comment"#, path: "", message: "not JSON: line 1, column 1: expected a value, found '/'")
        assertError(String(repeating: "[", count: 1000), path: "", message: "nested deeper than 256 levels")
    }

    func testEmptyOrNotUTF8File() {
        assertError(" \n", path: "", message: "not JSON: the file is empty (expected an object)")
        XCTAssertEqual(parseError(data: Data([0x7B, 0xFF, 0x7D]))?.message, "not JSON: the file is not UTF-8 text")
    }

    func testTopLevelNotAnObject() {
        assertError("[1, 2]", path: "", message: "expected an object at the top level (two architectures, then optionally \"thresholds\"), got an array")
    }

    func testNotTwoArchitectures() {
        assertError(#"{"a": {\#(Self.valid(port: 1))}}"#, path: "",
                    message: #"the top level names 1 architecture ("a"); expected exactly two"#)
        assertError(#"{"thresholds": {}}"#, path: "", message: "the top level names 0 architectures; expected exactly two")
        assertError(#"{"a": {}, "b": {}, "c": {}}"#, path: "", message: #"the top level names 3 architectures ("a", "b", "c")"#)
    }

    func testArchitectureNotAnObject() {
        assertError(#"{"a": {\#(Self.valid(port: 1))}, "b": "http://x"}"#, path: "b", message: #"expected an object, got "http://x""#)
        assertError(#"{"a": {\#(Self.valid(port: 1))}, "my arch": 3}"#, path: #"["my arch"]"#, message: "expected an object, got 3")
    }

    func testDuplicateKey() {
        assertError(Self.config(b: ["extra": #""http://127.0.0.1:1""#]).replacingOccurrences(of: "\"extra\"", with: "\"base_url\""),
                    path: "b", message: #"duplicate key "base_url""#)
        assertError(#"{"a": {\#(Self.valid(port: 1))}, "a": {\#(Self.valid(port: 2))}}"#, path: "", message: #"duplicate key "a""#)
    }

    func testUnknownKey() {
        assertError(Self.config(b: ["base_ulr": #""http://127.0.0.1:1""#]), path: "b",
                    message: #"unknown key "base_ulr" (expected one of: base_url, websocket_url, connection_pool_size, compression, circuit_breaker, ready_timeout_s, command, processes, run_as); did you mean "base_url"?"#)
        assertError(Self.config(b: ["include_children": "true"]), path: "b", message: #"unknown key "include_children" (expected one of:"#)
    }

    func testBaseURLWrongType() {
        assertError(Self.config(b: ["base_url": "42"]), path: "b.base_url", message: "expected a string, got 42")
        assertError(Self.config(b: ["base_url": "null"]), path: "b.base_url", message: "expected a string, got null")
    }

    func testBaseURLMissing() {
        assertError(Self.config(b: ["base_url": nil]), path: "b.base_url", message: "missing (required: an http:// URL)")
    }

    func testBaseURLMalformed() {
        assertError(Self.config(b: ["base_url": #""ftp://127.0.0.1/""#]), path: "b.base_url",
                    message: #"bad URL "ftp://127.0.0.1/": scheme ftp is not supported (http or ws; no TLS)"#)
        assertError(Self.config(b: ["base_url": #""https://127.0.0.1/""#]), path: "b.base_url", message: "scheme https is not supported")
        assertError(Self.config(b: ["base_url": #""127.0.0.1:8080""#]), path: "b.base_url", message: #"bad URL "127.0.0.1:8080""#)
        assertError(Self.config(b: ["base_url": #""http:///x""#]), path: "b.base_url", message: "it names no host")
    }

    func testBaseURLIsWebSocket() {
        assertError(Self.config(b: ["base_url": #""ws://127.0.0.1:1/ws""#]), path: "b.base_url",
                    message: #"expected an http:// URL, got "ws://127.0.0.1:1/ws""#)
    }

    func testWebSocketURLIsHTTP() {
        assertError(Self.config(b: ["websocket_url": #""http://127.0.0.1:1/ws""#]), path: "b.websocket_url",
                    message: #"expected a ws:// URL, got "http://127.0.0.1:1/ws""#)
    }

    func testWebSocketURLMissingOrWrongType() {
        assertError(Self.config(b: ["websocket_url": nil]), path: "b.websocket_url", message: "missing (required: a ws:// URL)")
        assertError(Self.config(b: ["websocket_url": "[]"]), path: "b.websocket_url", message: "expected a string, got an empty array")
    }

    func testConnectionPoolSizeNotAnInteger() {
        assertError(Self.config(b: ["connection_pool_size": #""x""#]), path: "b.connection_pool_size", message: #"expected an integer, got "x""#)
        assertError(Self.config(b: ["connection_pool_size": "1.5"]), path: "b.connection_pool_size", message: "expected an integer, got 1.5")
        assertError(Self.config(b: ["connection_pool_size": "1e2"]), path: "b.connection_pool_size", message: "expected an integer, got 1e2")
        assertError(Self.config(b: ["connection_pool_size": "true"]), path: "b.connection_pool_size", message: "expected an integer, got true")
    }

    func testConnectionPoolSizeBelowOne() {
        assertError(Self.config(b: ["connection_pool_size": "0"]), path: "b.connection_pool_size",
                    message: "expected an integer from 1 to 2147483647, got 0")
        assertError(Self.config(b: ["connection_pool_size": "-3"]), path: "b.connection_pool_size", message: "got -3")
        assertError(Self.config(b: ["connection_pool_size": "99999999999999999999"]), path: "b.connection_pool_size",
                    message: "got 99999999999999999999")
    }

    func testConnectionPoolSizeMissing() {
        assertError(Self.config(b: ["connection_pool_size": nil]), path: "b.connection_pool_size", message: "missing (required: an integer ≥ 1)")
    }

    func testCompressionNotABoolean() {
        assertError(Self.config(b: ["compression": #""yes""#]), path: "b.compression", message: #"expected a boolean (true or false), got "yes""#)
    }

    func testCircuitBreakerNotABoolean() {
        assertError(Self.config(b: ["circuit_breaker": "1"]), path: "b.circuit_breaker", message: "expected a boolean (true or false), got 1")
    }

    func testReadyTimeoutNotPositive() {
        assertError(Self.config(b: ["ready_timeout_s": "0"]), path: "b.ready_timeout_s", message: "expected a number of seconds > 0, got 0")
        assertError(Self.config(b: ["ready_timeout_s": "-1.5"]), path: "b.ready_timeout_s", message: "got -1.5")
        assertError(Self.config(b: ["ready_timeout_s": "1e999"]), path: "b.ready_timeout_s", message: "got 1e999")
        assertError(Self.config(b: ["ready_timeout_s": #""30""#]), path: "b.ready_timeout_s", message: #"expected a number, got "30""#)
    }

    func testCommandNotAnArrayOfStrings() {
        assertError(Self.config(b: ["command": #""archbench serve monolith""#]), path: "b.command",
                    message: #"expected an array of strings (argv, run without a shell: ["prog", "arg", ...]), got "archbench serve monolith""#)
        assertError(Self.config(b: ["command": "[]"]), path: "b.command", message: "expected a non-empty array of strings")
        assertError(Self.config(b: ["command": #"["sh", 8080]"#]), path: "b.command[1]", message: "expected a string, got 8080")
        assertError(Self.config(b: ["command": #"[""]"#]), path: "b.command[0]", message: "the program name is empty")
    }

    func testCommandProgramNotOnPath() {
        assertError(Self.config(b: ["command": #"["no-such-program-xyz", "serve"]"#]), path: "b.command[0]",
                    message: #"program "no-such-program-xyz" not found on PATH (/nonexistent)"#)
    }

    func testCommandProgramPathDoesNotExist() {
        assertError(Self.config(b: ["command": #"["/opt/none/server"]"#]), path: "b.command[0]", message: #""/opt/none/server" does not exist"#)
        assertError(Self.config(b: ["command": #"["./bin/../server"]"#]), path: "b.command[0]",
                    message: #""./bin/../server" (/server) does not exist"#)
    }

    func testCommandProgramNotExecutable() throws {
        let directory = try temporaryDirectory("archbench-config").path
        let file = try makeFile(in: directory, "script", mode: 0o644)
        assertError(Self.config(b: ["command": "[\"\(file)\"]"]), path: "b.command[0]",
                    message: "\"\(file)\" is not executable (mode 644)")
        assertError(Self.config(b: ["command": "[\"\(directory)\"]"]), path: "b.command[0]",
                    message: "\"\(directory)\" is a directory, not a program")
    }

    func testCommandAndProcessesBoth() {
        assertError(Self.config(b: ["command": #"["/bin/sh"]"#, "processes": #"{"port": [1]}"#]), path: "b",
                    message: #"both "command" and "processes" given"#)
    }

    func testProcessesNotExactlyOneKind() {
        assertError(Self.config(b: ["processes": "[8080]"]), path: "b.processes", message: "expected an object, got an array")
        assertError(Self.config(b: ["processes": "{}"]), path: "b.processes",
                    message: #"expected exactly one of "pid", "port", "cgroup", got none"#)
        assertError(Self.config(b: ["processes": #"{"pid": [1], "port": [2]}"#]), path: "b.processes",
                    message: #"expected exactly one of "pid", "port", "cgroup", got "pid" and "port""#)
        assertError(Self.config(b: ["processes": #"{"ports": [8080]}"#]), path: "b.processes",
                    message: #"unknown key "ports" (expected one of: pid, port, cgroup); did you mean "port"?"#)
    }

    func testProcessesPidInvalid() {
        assertError(Self.config(b: ["processes": #"{"pid": 1234}"#]), path: "b.processes.pid",
                    message: "expected an array of process ids (integers), got 1234")
        assertError(Self.config(b: ["processes": #"{"pid": []}"#]), path: "b.processes.pid", message: "expected a non-empty array of process ids")
        assertError(Self.config(b: ["processes": #"{"pid": [12, 0]}"#]), path: "b.processes.pid[1]",
                    message: "expected an integer from 1 to 2147483647, got 0")
        assertError(Self.config(b: ["processes": #"{"pid": ["12"]}"#]), path: "b.processes.pid[0]", message: #"expected an integer, got "12""#)
    }

    func testProcessesPortInvalid() {
        assertError(Self.config(b: ["processes": #"{"port": [0]}"#]), path: "b.processes.port[0]",
                    message: "expected an integer from 1 to 65535, got 0")
        assertError(Self.config(b: ["processes": #"{"port": [8080, 65536]}"#]), path: "b.processes.port[1]", message: "got 65536")
        assertError(Self.config(b: ["processes": #"{"port": [80.0]}"#]), path: "b.processes.port[0]", message: "expected an integer, got 80.0")
    }

    func testProcessesCgroupInvalid() {
        assertError(Self.config(b: ["processes": #"{"cgroup": 42}"#]), path: "b.processes.cgroup", message: "expected a string, got 42")
        assertError(Self.config(b: ["processes": #"{"cgroup": ""}"#]), path: "b.processes.cgroup",
                    message: "expected a cgroup v2 path, got an empty string")
    }

    func testThresholdsNotAnObject() {
        assertError(Self.config(b: [:], thresholds: "[]"), path: "thresholds", message: "expected an object, got an empty array")
    }

    func testThresholdsUnknownMetric() {
        assertError(Self.config(b: [:], thresholds: #"{"latncy": {"warning": 1, "critical": 2}}"#), path: "thresholds",
                    message: #"unknown key "latncy" (expected one of: throughput, latency, memory, success_rate); did you mean "latency"?"#)
        assertError(Self.config(b: [:], thresholds: #"{"cpu": {"warning": 1, "critical": 2}}"#), path: "thresholds",
                    message: #"unknown key "cpu" (expected one of: throughput, latency, memory, success_rate)"#)
    }

    func testThresholdNotWarningAndCriticalNumbers() {
        assertError(Self.config(b: [:], thresholds: #"{"memory": 20}"#), path: "thresholds.memory", message: "expected an object, got 20")
        assertError(Self.config(b: [:], thresholds: #"{"memory": {"critical": 50}}"#), path: "thresholds.memory.warning",
                    message: "missing (required: the change in percent, e.g. -5 or 10)")
        assertError(Self.config(b: [:], thresholds: #"{"memory": {"warning": 20}}"#), path: "thresholds.memory.critical", message: "missing")
        assertError(Self.config(b: [:], thresholds: #"{"memory": {"warning": "20%", "critical": 50}}"#), path: "thresholds.memory.warning",
                    message: #"expected a number, got "20%""#)
        assertError(Self.config(b: [:], thresholds: #"{"memory": {"warning": 20, "critical": 50, "info": 5}}"#), path: "thresholds.memory",
                    message: #"unknown key "info" (expected one of: warning, critical)"#)
    }

    /// Throughput and success rate regress when they fall: warning ≤ 0, critical ≤ warning.
    func testFallingThresholdsMustFall() {
        assertError(Self.config(b: [:], thresholds: #"{"throughput": {"warning": 5, "critical": 15}}"#), path: "thresholds.throughput.warning",
                    message: "expected a fall (≤ 0, a percent), got 5")
        assertError(Self.config(b: [:], thresholds: #"{"success_rate": {"warning": 0.5, "critical": -5}}"#),
                    path: "thresholds.success_rate.warning", message: "expected a fall (≤ 0, a percent), got 0.5")
        assertError(Self.config(b: [:], thresholds: #"{"throughput": {"warning": -15, "critical": -5}}"#), path: "thresholds.throughput.critical",
                    message: "expected a fall at least as large as warning (≤ -15, a percent), got -5")
        assertError(Self.config(b: [:], thresholds: #"{"success_rate": {"warning": -2, "critical": 1}}"#), path: "thresholds.success_rate.critical",
                    message: "got 1")
    }

    /// Latency and memory regress when they rise: warning ≥ 0, critical ≥ warning.
    func testRisingThresholdsMustRise() {
        assertError(Self.config(b: [:], thresholds: #"{"latency": {"warning": -10, "critical": 25}}"#), path: "thresholds.latency.warning",
                    message: "expected a rise (≥ 0, a percent), got -10")
        assertError(Self.config(b: [:], thresholds: #"{"memory": {"warning": -1e1, "critical": -50}}"#), path: "thresholds.memory.warning",
                    message: "expected a rise (≥ 0, a percent), got -1e1")
        assertError(Self.config(b: [:], thresholds: #"{"memory": {"warning": 50, "critical": 20}}"#), path: "thresholds.memory.critical",
                    message: "expected a rise at least as large as warning (≥ 50, a percent), got 20")
        assertError(Self.config(b: [:], thresholds: #"{"latency": {"warning": 10, "critical": -25}}"#), path: "thresholds.latency.critical",
                    message: "got -25")
    }

    /// The edges are allowed: zero warnings, and critical equal to warning.
    func testThresholdEdgesAccepted() throws {
        let config = try parse(Self.config(b: [:], thresholds: #"{"throughput": {"warning": 0, "critical": 0}, "#
            + #""success_rate": {"warning": -2, "critical": -2}, "latency": {"warning": 0, "critical": 0}, "#
            + #""memory": {"warning": 20, "critical": 20}}"#))
        XCTAssertEqual(config.thresholds, ["throughput": ThresholdSpec(warning: 0, critical: 0),
                                           "success_rate": ThresholdSpec(warning: -2, critical: -2),
                                           "latency": ThresholdSpec(warning: 0, critical: 0),
                                           "memory": ThresholdSpec(warning: 20, critical: 20)])
    }

    // MARK: Helpers

    /// A valid architecture body whose URLs use `port`.
    static func valid(port: Int) -> String {
        #""base_url": "http://127.0.0.1:\#(port)", "websocket_url": "ws://127.0.0.1:\#(port)/ws", "connection_pool_size": 4"#
    }

    /// Two architectures: `a`, valid, and `b`, valid but for `changes` (raw JSON values; nil removes a key).
    static func config(b changes: [String: String?], names: (String, String) = ("a", "b"), thresholds: String? = nil) -> String {
        var fields: [(String, String)] = [("base_url", #""http://127.0.0.1:9002""#), ("websocket_url", #""ws://127.0.0.1:9002/ws""#),
                                          ("connection_pool_size", "4")]
        for (key, value) in changes.sorted(by: { $0.key < $1.key }) {
            fields.removeAll { $0.0 == key }
            if let value { fields.append((key, value)) }
        }
        let body = fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ")
        return #"{"\#(names.0)": {\#(valid(port: 9001))}, "\#(names.1)": {\#(body)}"#
            + (thresholds.map { #", "thresholds": \#($0)"# } ?? "") + "}"
    }

    func parse(_ json: String, resolver: ExecutableResolver = ConfigTests.resolver) throws -> RunConfig {
        try RunConfig.parse(Data(json.utf8), source: "cfg.json", resolver: resolver)
    }

    func parseError(_ json: String) -> ConfigError? {
        parseError(data: Data(json.utf8))
    }

    func parseError(data: Data) -> ConfigError? {
        do throws(ConfigError) {
            let config = try RunConfig.parse(data, source: "cfg.json", resolver: Self.resolver)
            XCTFail("parsed, expected an error: \(config)")
            return nil
        } catch {
            return error
        }
    }

    /// The config fails with `path` and a message starting with (or, for a fragment, containing) `message`.
    func assertError(_ json: String, path: String, message: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = parseError(json) else { return XCTFail("no error", file: file, line: line) }
        XCTAssertEqual(error.path, path, error.description, file: file, line: line)
        XCTAssertTrue(error.message.contains(message), "\(error.message)\ndoes not contain\n\(message)", file: file, line: line)
        XCTAssertEqual(error.exitCode, .usage, file: file, line: line)
        XCTAssertEqual(error.file, "cfg.json", file: file, line: line)
        XCTAssertEqual(error.description, path.isEmpty ? "cfg.json: \(error.message)" : "cfg.json: \(path): \(error.message)",
                       file: file, line: line)
    }

    func makeFile(in directory: String, _ name: String, mode: Int) throws -> String {
        let path = directory + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\nexit 0\n".utf8),
                                                     attributes: [.posixPermissions: mode]))
        return path
    }
}
