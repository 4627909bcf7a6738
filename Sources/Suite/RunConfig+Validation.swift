import Analysis
import ArchbenchCore
import Foundation
import Load

// Reading a config file: a small JSON reader that keeps every object's keys in file order (the first
// architecture is the baseline; JSONSerialization and JSONDecoder lose the order) and every number's
// text (so `1.5` is not an integer and an error shows what was written), then one checker that walks
// the value with its JSON path, so that every error names where it is.

/// A strict RFC 8259 JSON reader (no comments, no trailing commas), whose objects keep their keys in
/// file order, duplicates included (the checker rejects them with their path).
enum ConfigJSON {
    indirect enum Value {
        case null
        case bool(Bool)
        /// The number's text as written (`42`, `-1.5e3`), checked against the JSON grammar.
        case number(String)
        case string(String)
        case array([Value])
        case object([(key: String, value: Value)])
    }

    struct SyntaxError: Error {
        var message: String
    }

    /// Nesting deeper than this is refused rather than recursed into.
    static let maximumDepth = 256

    static func parse(_ data: Data) throws(SyntaxError) -> Value {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw SyntaxError(message: "not JSON: the file is not UTF-8 text")
        }
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        guard parser.index < bytes.count else {
            throw SyntaxError(message: "not JSON: the file is empty (expected an object)")
        }
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else {
            throw parser.error("unexpected \(parser.found()) after the end of the top-level value")
        }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        /// "line L, column C" of `index`, columns counted in characters (Unicode scalars) from 1.
        func position(_ at: Int) -> String {
            var line = 1, column = 1
            for byte in bytes[..<min(at, bytes.count)] {
                if byte == 0x0A {
                    line += 1
                    column = 1
                } else if byte & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return "line \(line), column \(column)"
        }

        func error(_ message: String, at: Int? = nil) -> SyntaxError {
            SyntaxError(message: "not JSON: \(position(at ?? index)): \(message)")
        }

        /// What is at `index`, for an error: `'x'`, or "the end of the file".
        func found() -> String {
            guard index < bytes.count else { return "the end of the file" }
            let scalarEnd = bytes[(index + 1)...].firstIndex { $0 & 0xC0 != 0x80 } ?? bytes.count
            let text = String(decoding: bytes[index..<scalarEnd], as: UTF8.self)
            switch text {
            case "\n": return "a line break"
            case "\t": return "a tab"
            case _ where bytes[index] < 0x20: return String(format: "U+%04X", bytes[index])
            default: return "'\(text)'"
            }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> Value {
            guard depth < ConfigJSON.maximumDepth else { throw error("nested deeper than \(ConfigJSON.maximumDepth) levels") }
            guard index < bytes.count else { throw error("expected a value, found the end of the file") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("expected a value, found \(found())")
            }
        }

        mutating func literal(_ word: String) throws(SyntaxError) {
            let expected = Array(word.utf8)
            guard bytes[index...].starts(with: expected) else {
                throw error("expected a value, found \(found())")
            }
            index += expected.count
        }

        mutating func object(depth: Int) throws(SyntaxError) -> Value {
            index += 1
            var members: [(key: String, value: Value)] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw error("expected a key in double quotes, found \(found())")
                }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error("expected ':' after the key \"\(key)\", found \(found())")
                }
                index += 1
                skipWhitespace()
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard index < bytes.count else { throw error("expected ',' or '}', found the end of the file") }
                switch bytes[index] {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"): index += 1; return .object(members)
                default: throw error("expected ',' or '}' after the value of \"\(key)\", found \(found())")
                }
            }
        }

        mutating func array(depth: Int) throws(SyntaxError) -> Value {
            index += 1
            var elements: [Value] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw error("expected ',' or ']', found the end of the file") }
                switch bytes[index] {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return .array(elements)
                default: throw error("expected ',' or ']' in an array, found \(found())")
                }
            }
        }

        mutating func string() throws(SyntaxError) -> String {
            let start = index
            index += 1
            var text: [UInt8] = []
            while true {
                guard index < bytes.count else { throw error("a string is not closed", at: start) }
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { throw error("a string is not closed", at: start) }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
                    case UInt8(ascii: "b"): text.append(0x08)
                    case UInt8(ascii: "f"): text.append(0x0C)
                    case UInt8(ascii: "n"): text.append(0x0A)
                    case UInt8(ascii: "r"): text.append(0x0D)
                    case UInt8(ascii: "t"): text.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard bytes[index...].starts(with: Array("\\u".utf8)) else {
                                throw error("\\u\(String(scalar, radix: 16)) is half of a surrogate pair, without its other half")
                            }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else {
                                throw error("\\u\(String(scalar, radix: 16)) is not followed by a low surrogate")
                            }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw error("\\u\(String(scalar, radix: 16)) is half of a surrogate pair, without its other half")
                        }
                        text.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                    default:
                        index -= 1
                        throw error("unknown escape \\\(String(decoding: [escape], as: UTF8.self)) in a string")
                    }
                case 0x00..<0x20:
                    throw error("a control character (\(found())) in a string must be escaped (\\n, \\t, \\uXXXX)")
                default:
                    text.append(byte)
                    index += 1
                }
            }
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count,
                  let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                  bytes[index..<index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
            else { throw error("\\u must be followed by four hex digits") }
            index += 4
            return value
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as written.
        mutating func number() throws(SyntaxError) -> String {
            let start = index
            func isDigit(_ at: Int) -> Bool { at < bytes.count && (0x30...0x39).contains(bytes[at]) }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { throw error("expected a digit after '-', found \(found())") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if isDigit(index) { throw error("a number must not start with 0", at: start) }
            } else {
                while isDigit(index) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard isDigit(index) else { throw error("expected a digit after '.', found \(found())") }
                while isDigit(index) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard isDigit(index) else { throw error("expected a digit in the exponent, found \(found())") }
                while isDigit(index) { index += 1 }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }
}

extension ConfigJSON.Value {
    /// The value as an error shows it after "got": scalars as written, containers by kind.
    var shown: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .number(let text): text
        case .string(let text): quoted(text.count > 60 ? String(text.prefix(57)) + "..." : text)
        case .array(let elements): elements.isEmpty ? "an empty array" : "an array"
        case .object(let members): members.isEmpty ? "an empty object" : "an object"
        }
    }
}

/// `text` in double quotes, escaped as JSON writes it.
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// Finds a `command`'s program, so that a missing one is a config error before anything runs.
struct ExecutableResolver: Sendable {
    /// PATH's directories, in order.
    var searchPath: [String]
    /// The directory a relative program path is relative to.
    var workingDirectory: String
    /// This process's executable, which a bare `archbench` not on PATH means.
    var ownExecutable: String

    static func current() -> ExecutableResolver {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let cwd = FileManager.default.currentDirectoryPath
        return ExecutableResolver(searchPath: path.split(separator: ":", omittingEmptySubsequences: false).map(String.init),
                                  workingDirectory: cwd, ownExecutable: ProcessTable.ownExecutable())
    }

    /// The absolute path of `program`, or why there is none.
    func resolve(_ program: String) -> Result<String, ResolveError> {
        if program.isEmpty { return .failure(.init(message: "the program name is empty")) }
        if program.contains("/") {
            let path = Self.absolute(program, in: workingDirectory)
            if let why = Self.notExecutable(path) {
                return .failure(.init(message: program == path ? "\(quoted(path)) \(why)" : "\(quoted(program)) (\(path)) \(why)"))
            }
            return .success(path)
        }
        // A bare `archbench` is this build, whatever else PATH holds: the config's reference
        // backends must be the ones this archbench knows.
        if program == "archbench" { return .success(ownExecutable) }
        for directory in searchPath {
            // An empty PATH entry is the current directory, as for execvp.
            let candidate = Self.absolute((directory.isEmpty ? "." : directory) + "/" + program, in: workingDirectory)
            if Self.notExecutable(candidate) == nil { return .success(candidate) }
        }
        return .failure(.init(message: "program \(quoted(program)) not found on PATH (\(searchPath.joined(separator: ":")))"))
    }

    struct ResolveError: Error { var message: String }

    /// Why `path` cannot be executed, or nil if it can.
    static func notExecutable(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? "does not exist" : "cannot be read: \(String(cString: strerror(errno)))"
        }
        if info.st_mode & S_IFMT == S_IFDIR { return "is a directory, not a program" }
        if info.st_mode & S_IFMT != S_IFREG { return "is not a regular file" }
        if access(path, X_OK) != 0 { return "is not executable (mode \(String(info.st_mode & 0o7777, radix: 8)))" }
        return nil
    }

    /// `path` made absolute against `directory`, with `.` and `..` folded (symbolic links kept).
    static func absolute(_ path: String, in directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}

/// Walks a config value, keeping the JSON path of where it is, and builds the `RunConfig`.
struct ConfigReader {
    var resolver: ExecutableResolver

    struct Failure: Error {
        var path: String
        var message: String
    }

    static let architectureKeys = ["base_url", "websocket_url", "connection_pool_size", "compression",
                                   "circuit_breaker", "ready_timeout_s", "command", "processes", "run_as"]
    static let processKeys = ["pid", "port", "cgroup"]
    static let thresholdKeys = ["warning", "critical"]

    func config(_ value: ConfigJSON.Value) throws(Failure) -> RunConfig {
        guard case .object(let members) = value else {
            throw Failure(path: "", message: "expected an object at the top level (two architectures, then optionally \"thresholds\"), got \(value.shown)")
        }
        try rejectDuplicates(members, at: "")
        let architectures = members.filter { $0.key != "thresholds" }
        guard architectures.count == 2 else {
            let names = architectures.map { quoted($0.key) }.joined(separator: ", ")
            throw Failure(path: "", message: "the top level names \(architectures.count) architecture\(architectures.count == 1 ? "" : "s")"
                + (names.isEmpty ? "" : " (\(names))")
                + "; expected exactly two: the baseline, then the candidate (plus optionally \"thresholds\")")
        }
        let baseline = try architecture(architectures[0].key, architectures[0].value)
        let candidate = try architecture(architectures[1].key, architectures[1].value)
        var thresholds: [String: ThresholdSpec] = [:]
        if let table = members.first(where: { $0.key == "thresholds" }) {
            thresholds = try self.thresholds(table.value)
        }
        return RunConfig(baseline: baseline, candidate: candidate, thresholds: thresholds)
    }

    // MARK: Architectures

    func architecture(_ name: String, _ value: ConfigJSON.Value) throws(Failure) -> ArchitectureSpec {
        let path = Self.key(name, in: "")
        guard !name.isEmpty else { throw Failure(path: path, message: "an architecture needs a name (the key is empty)") }
        let fields = try object(value, at: path, allowed: Self.architectureKeys)
        let baseURL = try url(fields, "base_url", in: path, websocket: false)
        let websocketURL = try url(fields, "websocket_url", in: path, websocket: true)
        guard let poolValue = fields["connection_pool_size"] else {
            throw Failure(path: Self.key("connection_pool_size", in: path), message: "missing (required: an integer ≥ 1)")
        }
        let pool = try integer(poolValue, at: Self.key("connection_pool_size", in: path), in: 1...Int(Int32.max))
        let compression = try fields["compression"].map { v throws(Failure) in try bool(v, at: Self.key("compression", in: path)) } ?? false
        let circuitBreaker = try fields["circuit_breaker"].map { v throws(Failure) in try bool(v, at: Self.key("circuit_breaker", in: path)) } ?? false
        var readyTimeout = ArchitectureSpec.defaultReadyTimeout
        if let timeout = fields["ready_timeout_s"] {
            let timeoutPath = Self.key("ready_timeout_s", in: path)
            readyTimeout = try number(timeout, at: timeoutPath)
            guard readyTimeout > 0, readyTimeout.isFinite else {
                throw Failure(path: timeoutPath, message: "expected a number of seconds > 0, got \(timeout.shown)")
            }
        }
        let processes: ProcessSource
        switch (fields["command"], fields["processes"]) {
        case (.some, .some):
            throw Failure(path: path, message: "both \"command\" and \"processes\" given; use one: \"command\" to spawn the architecture, \"processes\" to attach to it running")
        case (.some(let command), nil):
            processes = .command(try self.command(command, at: Self.key("command", in: path)))
        case (nil, .some(let source)):
            processes = try self.processes(source, at: Self.key("processes", in: path))
        case (nil, nil):
            processes = .urlPorts
        }
        var runAs: RunAs?
        if let value = fields["run_as"] {
            let runAsPath = Self.key("run_as", in: path)
            guard case .command = processes else {
                throw Failure(path: runAsPath, message: "applies only to an architecture archbench spawns (with \"command\"); "
                    + "this one's processes are found running")
            }
            runAs = try self.runAs(value, at: runAsPath)
        }
        return ArchitectureSpec(name: name, baseURL: baseURL, websocketURL: websocketURL, connectionPoolSize: pool,
                                compression: compression, circuitBreaker: circuitBreaker, processes: processes,
                                readyTimeout: readyTimeout, runAs: runAs)
    }

    /// `run_as`: "root", a user name, or a uid (a JSON integer or a string of digits) that the passwd
    /// database knows: its primary group and groups come from there.
    func runAs(_ value: ConfigJSON.Value, at path: String) throws(Failure) -> RunAs {
        let expected = "expected \"root\", a user name or a uid"
        let uid: UInt32
        switch value {
        case .string("root"):
            return .root
        case .string(let text) where !text.isEmpty && !text.allSatisfy(\.isNumber):
            guard let entry = UserEntry.named(text) else {
                throw Failure(path: path, message: "unknown user \(quoted(text)) (no such user in the passwd database)")
            }
            return entry.uid == 0 ? .root : .user(entry)
        case .string(let text) where !text.isEmpty:
            guard let parsed = UInt32(text), parsed != UInt32.max else {
                throw Failure(path: path, message: "\(expected), got \(value.shown)")
            }
            uid = parsed
        case .number:
            uid = UInt32(try integer(value, at: path, in: 0...Int(UInt32.max - 1)))
        default:
            throw Failure(path: path, message: "\(expected), got \(value.shown)")
        }
        guard let entry = UserEntry.withID(uid) else {
            throw Failure(path: path, message: "unknown user: uid \(uid) has no passwd entry (its group could not be told)")
        }
        return entry.uid == 0 ? .root : .user(entry)
    }

    func url(_ fields: [String: ConfigJSON.Value], _ key: String, in parent: String, websocket: Bool) throws(Failure) -> LoadTarget {
        let path = Self.key(key, in: parent)
        let scheme = websocket ? "ws" : "http", article = websocket ? "a" : "an"
        guard let value = fields[key] else {
            throw Failure(path: path, message: "missing (required: \(article) \(scheme):// URL)")
        }
        let text = try string(value, at: path)
        let target: LoadTarget
        do throws(LoadError) {
            target = try LoadTarget.parse(text)
        } catch {
            switch error {
            case .badURL(_, let why): throw Failure(path: path, message: "bad URL \(quoted(text)): \(why)")
            default: throw Failure(path: path, message: "bad URL \(quoted(text)): \(error.description)")
            }
        }
        guard target.websocket == websocket else {
            throw Failure(path: path, message: "expected \(article) \(scheme):// URL, got \(quoted(text))")
        }
        return target
    }

    func command(_ value: ConfigJSON.Value, at path: String) throws(Failure) -> [String] {
        guard case .array(let elements) = value else {
            throw Failure(path: path, message: "expected an array of strings (argv, run without a shell: [\"prog\", \"arg\", ...]), got \(value.shown)")
        }
        guard !elements.isEmpty else {
            throw Failure(path: path, message: "expected a non-empty array of strings (argv: the program, then its arguments), got an empty array")
        }
        var argv: [String] = []
        for (index, element) in elements.enumerated() {
            argv.append(try string(element, at: "\(path)[\(index)]"))
        }
        switch resolver.resolve(argv[0]) {
        case .success(let program): argv[0] = program
        case .failure(let why): throw Failure(path: "\(path)[0]", message: why.message)
        }
        return argv
    }

    func processes(_ value: ConfigJSON.Value, at path: String) throws(Failure) -> ProcessSource {
        let fields = try object(value, at: path, allowed: Self.processKeys)
        let given = Self.processKeys.filter { fields[$0] != nil }
        guard given.count == 1 else {
            throw Failure(path: path, message: "expected exactly one of \"pid\", \"port\", \"cgroup\", got "
                + (given.isEmpty ? "none" : given.map(quoted).joined(separator: " and ")))
        }
        let key = given[0]
        let keyPath = Self.key(key, in: path)
        switch key {
        case "pid":
            return .pids(try integers(fields[key]!, at: keyPath, in: 1...Int(Int32.max), what: "process ids").map { Int32($0) })
        case "port":
            return .ports(try integers(fields[key]!, at: keyPath, in: 1...65535, what: "TCP ports").map { UInt16($0) })
        default:
            let cgroup = try string(fields[key]!, at: keyPath)
            guard !cgroup.isEmpty else { throw Failure(path: keyPath, message: "expected a cgroup v2 path, got an empty string") }
            return .cgroup(cgroup)
        }
    }

    // MARK: Thresholds

    func thresholds(_ value: ConfigJSON.Value) throws(Failure) -> [String: ThresholdSpec] {
        let fields = try object(value, at: "thresholds", allowed: RunConfig.thresholdMetrics)
        var table: [String: ThresholdSpec] = [:]
        for metric in RunConfig.thresholdMetrics {
            guard let spec = fields[metric] else { continue }
            let path = Self.key(metric, in: "thresholds")
            let limits = try object(spec, at: path, allowed: Self.thresholdKeys)
            var numbers: [Double] = []
            for key in Self.thresholdKeys {
                guard let limit = limits[key] else {
                    throw Failure(path: Self.key(key, in: path), message: "missing (required: the change in percent, e.g. -5 or 10)")
                }
                let number = try number(limit, at: Self.key(key, in: path))
                guard number.isFinite else { throw Failure(path: Self.key(key, in: path), message: "expected a finite number, got \(limit.shown)") }
                numbers.append(number)
            }
            try checkDirection(metric, warning: (numbers[0], limits["warning"]!), critical: (numbers[1], limits["critical"]!), at: path)
            table[metric] = ThresholdSpec(warning: numbers[0], critical: numbers[1])
        }
        return table
    }

    /// A threshold signed as its metric regresses, critical at least as far as warning: for a fall,
    /// warning ≤ 0 and critical ≤ warning; for a rise, warning ≥ 0 and critical ≥ warning. (A
    /// `throughput` warning of +5 would flag every run that did not improve.)
    func checkDirection(_ metric: String, warning: (Double, ConfigJSON.Value), critical: (Double, ConfigJSON.Value),
                        at path: String) throws(Failure) {
        let falls = Thresholds.falling.contains(metric)
        let (kind, sign) = falls ? ("fall", "≤") : ("rise", "≥")
        let warningOK = falls ? warning.0 <= 0 : warning.0 >= 0
        guard warningOK else {
            throw Failure(path: Self.key("warning", in: path),
                          message: "expected a \(kind) (\(sign) 0, a percent), got \(warning.1.shown)")
        }
        let criticalOK = falls ? critical.0 <= warning.0 : critical.0 >= warning.0
        guard criticalOK else {
            throw Failure(path: Self.key("critical", in: path),
                          message: "expected a \(kind) at least as large as warning (\(sign) \(warning.1.shown), a percent), got \(critical.1.shown)")
        }
    }

    // MARK: Types

    /// An object's members by key, after rejecting duplicate and unknown keys.
    func object(_ value: ConfigJSON.Value, at path: String, allowed: [String]) throws(Failure) -> [String: ConfigJSON.Value] {
        guard case .object(let members) = value else {
            throw Failure(path: path, message: "expected an object, got \(value.shown)")
        }
        try rejectDuplicates(members, at: path)
        for member in members where !allowed.contains(member.key) {
            var message = "unknown key \(quoted(member.key)) (expected one of: \(allowed.joined(separator: ", ")))"
            if let near = Self.nearest(member.key, in: allowed) { message += "; did you mean \(quoted(near))?" }
            throw Failure(path: path, message: message)
        }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    func rejectDuplicates(_ members: [(key: String, value: ConfigJSON.Value)], at path: String) throws(Failure) {
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted {
            throw Failure(path: path, message: "duplicate key \(quoted(member.key))")
        }
    }

    func string(_ value: ConfigJSON.Value, at path: String) throws(Failure) -> String {
        guard case .string(let text) = value else { throw Failure(path: path, message: "expected a string, got \(value.shown)") }
        return text
    }

    func bool(_ value: ConfigJSON.Value, at path: String) throws(Failure) -> Bool {
        guard case .bool(let flag) = value else { throw Failure(path: path, message: "expected a boolean (true or false), got \(value.shown)") }
        return flag
    }

    func number(_ value: ConfigJSON.Value, at path: String) throws(Failure) -> Double {
        guard case .number(let text) = value, let number = Double(text) else {
            throw Failure(path: path, message: "expected a number, got \(value.shown)")
        }
        return number
    }

    /// An integer as written (no fraction, no exponent) within `range`.
    func integer(_ value: ConfigJSON.Value, at path: String, in range: ClosedRange<Int>) throws(Failure) -> Int {
        guard case .number(let text) = value, !text.contains(where: { ".eE".contains($0) }) else {
            throw Failure(path: path, message: "expected an integer, got \(value.shown)")
        }
        guard let integer = Int(text), range.contains(integer) else {
            throw Failure(path: path, message: "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(text)")
        }
        return integer
    }

    func integers(_ value: ConfigJSON.Value, at path: String, in range: ClosedRange<Int>, what: String) throws(Failure) -> [Int] {
        guard case .array(let elements) = value else {
            throw Failure(path: path, message: "expected an array of \(what) (integers), got \(value.shown)")
        }
        guard !elements.isEmpty else {
            throw Failure(path: path, message: "expected a non-empty array of \(what), got an empty array")
        }
        var result: [Int] = []
        for (index, element) in elements.enumerated() {
            result.append(try integer(element, at: "\(path)[\(index)]", in: range))
        }
        return result
    }

    // MARK: Paths

    /// `parent.key`, or `parent["key"]` for a key that is not a plain word.
    static func key(_ key: String, in parent: String) -> String {
        let plain = !key.isEmpty && key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        if !plain { return "\(parent)[\(quoted(key))]" }
        return parent.isEmpty ? key : "\(parent).\(key)"
    }

    /// The allowed key within two edits of `key`, if one is.
    static func nearest(_ key: String, in allowed: [String]) -> String? {
        let best = allowed.map { ($0, editDistance(key.lowercased(), $0)) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= 2, best.1 < key.count else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
