import ArchbenchCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The faults one process injects. Zero means off.
public struct FaultSpec: Equatable, Sendable {
    public static let maxLeakBytesPerRequest = 64 << 20

    /// Bytes allocated, written and retained forever on each request (and each WebSocket message).
    public var leakBytesPerRequest = 0
    /// A stop-the-world pause of `pauseMs` starts every `pauseEveryMs` (start to start).
    public var pauseEveryMs = 0
    public var pauseMs = 0
    /// Requests to `slowPath`, or below it, are answered `slowMs` later.
    public var slowMs = 0
    public var slowPath: String?
    /// Each request fails with a 500 with this probability.
    public var errorRate = 0.0

    public init() {}

    public var isEmpty: Bool { self == FaultSpec() }

    /// The flags that give a service process this spec (no prefixes: the process is the target).
    public var arguments: [String] {
        var arguments: [String] = []
        if leakBytesPerRequest > 0 { arguments += ["--leak-bytes-per-request", "\(leakBytesPerRequest)"] }
        if pauseEveryMs > 0 { arguments += ["--pause-every-ms", "\(pauseEveryMs)", "--pause-ms", "\(pauseMs)"] }
        if slowMs > 0, let slowPath { arguments += ["--slow-ms", "\(slowMs)", "--slow-path", slowPath] }
        if errorRate > 0 { arguments += ["--error-rate", "\(errorRate)"] }
        return arguments
    }

    /// Whether `path` is the slow path or below it (`/api/users` covers `/api/users/7`).
    func isSlow(_ path: Substring) -> Bool {
        guard slowMs > 0, let slowPath else { return false }
        return path == slowPath || (path.hasPrefix(slowPath) && path.dropFirst(slowPath.count).first == "/")
    }
}

/// The fault flags as typed, before they are checked.
public struct FaultFlags: Equatable, Sendable {
    public var leakBytesPerRequest: String?
    public var pauseEveryMs: String?
    public var pauseMs: String?
    public var slowMs: String?
    public var slowPath: String?
    public var errorRate: String?

    public init(leakBytesPerRequest: String? = nil, pauseEveryMs: String? = nil, pauseMs: String? = nil,
                slowMs: String? = nil, slowPath: String? = nil, errorRate: String? = nil) {
        self.leakBytesPerRequest = leakBytesPerRequest
        self.pauseEveryMs = pauseEveryMs
        self.pauseMs = pauseMs
        self.slowMs = slowMs
        self.slowPath = slowPath
        self.errorRate = errorRate
    }
}

/// Which process injects which faults.
///
/// In the monolith (and in a single service) every flag is for the process itself. In the
/// microservices set a flag's value may start with a service name and a colon,
/// `--error-rate orders:0.2`, to target that service; without one it targets the gateway, the
/// process a client's request meets first, as it meets the monolith. `--pause-ms` follows the target
/// of `--pause-every-ms`, and `--slow-path` that of `--slow-ms` (they may repeat its prefix).
public struct FaultPlan: Equatable, Sendable {
    public var byService: [ServiceName: FaultSpec] = [:]

    public init() {}

    /// The spec of one process: `.gateway` is also the key for a monolith or a single service.
    public func spec(for service: ServiceName) -> FaultSpec { byService[service] ?? FaultSpec() }

    /// Checks the flags; a bad one is a usage error naming it.
    public static func parse(_ flags: FaultFlags, servicePrefixes: Bool) throws(BackendError) -> FaultPlan {
        var plan = FaultPlan()
        func target(_ flag: String, _ raw: String) throws(BackendError) -> (ServiceName, String) {
            guard let colon = raw.firstIndex(of: ":"), !raw[..<colon].contains("/") else { return (.gateway, raw) }
            let prefix = String(raw[..<colon])
            guard servicePrefixes else {
                throw .usage("\(flag) \(raw): a service prefix (\(prefix):) only applies to `serve microservices`")
            }
            guard let service = ServiceName(rawValue: prefix) else {
                let names = ServiceName.allCases.map(\.rawValue).joined(separator: ", ")
                throw .usage("\(flag) \(raw): unknown service \(prefix) (one of \(names))")
            }
            return (service, String(raw[raw.index(after: colon)...]))
        }
        func integer(_ flag: String, _ text: String, _ range: ClosedRange<Int>) throws(BackendError) -> Int {
            guard let value = Int(text), range.contains(value) else {
                throw .usage("\(flag) \(text) must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        /// A companion flag's value, its prefix (if any) checked against the primary flag's target.
        func companion(_ flag: String, _ raw: String, of primary: String, _ service: ServiceName) throws(BackendError) -> String {
            let (own, value) = try target(flag, raw)
            if raw.contains(":") && !raw.hasPrefix("/") && own != service {
                throw .usage("\(flag) \(raw) targets \(own.rawValue) but \(primary) targets \(service.rawValue)")
            }
            return value
        }
        /// A flag and its companion: both or neither. Nil when neither is given.
        func paired(_ primary: String, _ rawPrimary: String?, _ second: String, _ rawSecond: String?,
                    _ what: String) throws(BackendError) -> (service: ServiceName, primary: String, second: String)? {
            switch (rawPrimary, rawSecond) {
            case (nil, nil): return nil
            case (nil, .some): throw .usage("\(second) needs \(primary)")
            case (.some, nil): throw .usage("\(primary) needs \(second) (\(what))")
            case let (.some(first), .some(other)):
                let (service, text) = try target(primary, first)
                return (service, text, try companion(second, other, of: primary, service))
            }
        }

        if let raw = flags.leakBytesPerRequest {
            let (service, text) = try target("--leak-bytes-per-request", raw)
            plan.byService[service, default: FaultSpec()].leakBytesPerRequest =
                try integer("--leak-bytes-per-request", text, 0...FaultSpec.maxLeakBytesPerRequest)
        }
        if let pause = try paired("--pause-every-ms", flags.pauseEveryMs, "--pause-ms", flags.pauseMs,
                                  "the length of each pause") {
            let every = try integer("--pause-every-ms", pause.primary, 2...3_600_000)
            plan.byService[pause.service, default: FaultSpec()].pauseEveryMs = every
            plan.byService[pause.service, default: FaultSpec()].pauseMs = try integer("--pause-ms", pause.second, 1...(every - 1))
        }
        if let slow = try paired("--slow-ms", flags.slowMs, "--slow-path", flags.slowPath, "the path to slow down") {
            let ms = try integer("--slow-ms", slow.primary, 1...600_000)
            guard slow.second.hasPrefix("/"), !slow.second.contains("?") else {
                throw .usage("--slow-path \(flags.slowPath ?? "") must be a path starting with / (no query)")
            }
            plan.byService[slow.service, default: FaultSpec()].slowMs = ms
            plan.byService[slow.service, default: FaultSpec()].slowPath = slow.second.count > 1 && slow.second.hasSuffix("/")
                ? String(slow.second.dropLast()) : slow.second
        }
        if let raw = flags.errorRate {
            let (service, text) = try target("--error-rate", raw)
            guard let rate = Double(text), rate >= 0, rate <= 1 else {
                throw .usage("--error-rate \(text) must be a probability from 0 to 1")
            }
            plan.byService[service, default: FaultSpec()].errorRate = rate
        }
        return plan
    }
}

/// Memory retained forever, a few bytes of bookkeeping per request on top of the leak itself.
final class LeakStore: Sendable {
    /// Addresses, not pointers: they are never dereferenced again, only kept.
    private let blocks = NIOLockedValueBox<[UInt]>([])

    /// Allocates `bytes`, writes every byte (so every page is really resident, not a shared zero
    /// page), and keeps the pointer so the memory is never freed.
    func leak(_ bytes: Int) {
        guard bytes > 0, let block = malloc(bytes) else { return }
        memset(block, 0xA5, bytes)
        blocks.withLockedValue { $0.append(UInt(bitPattern: block)) }
    }

    var count: Int { blocks.withLockedValue { $0.count } }
}

/// The faults of one process, live.
public final class FaultRuntime: Sendable {
    public let spec: FaultSpec
    let service: ServiceName?
    private let leaks = LeakStore()
    private let random: NIOLockedValueBox<SplitMix64>
    let stopTheWorld: StopTheWorld?

    init(spec: FaultSpec, service: ServiceName?, stopTheWorld: StopTheWorld?) {
        self.spec = spec
        self.service = service
        self.stopTheWorld = stopTheWorld
        random = NIOLockedValueBox(SplitMix64(seed: UInt64.random(in: 0...UInt64.max)))
    }

    /// Where a long computation lets a stop-the-world pause hold it.
    var safepoint: @Sendable () -> Void {
        guard let stopTheWorld else { return {} }
        return { stopTheWorld.safepoint() }
    }

    func leakForRequest() { leaks.leak(spec.leakBytesPerRequest) }

    /// Whether this request is one of the `errorRate` that fail.
    func shouldFail() -> Bool {
        guard spec.errorRate > 0 else { return false }
        return random.withLockedValue { $0.unit() } < spec.errorRate
    }
}

/// Injects the faults around the routes of a process. `GET /health` is exempt, so liveness checks
/// stay true; a stop-the-world pause holds it all the same, since it stops the threads.
struct FaultRoute: Route {
    let inner: any Route
    let faults: FaultRuntime

    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>? {
        let spec = faults.spec
        if spec.isEmpty || request.path == "/health" { return inner.respond(to: request, on: eventLoop) }
        faults.leakForRequest()
        if faults.shouldFail() {
            return eventLoop.makeSucceededFuture(.error(.internalServerError,
                "injected fault (--error-rate \(spec.errorRate))", service: faults.service))
        }
        if spec.isSlow(request.path) {
            let inner = self.inner
            return eventLoop.scheduleTask(in: .milliseconds(Int64(spec.slowMs))) {}.futureResult.flatMap {
                inner.respond(to: request, on: eventLoop) ?? eventLoop.makeSucceededFuture(.notFound(request))
            }
        }
        return inner.respond(to: request, on: eventLoop)
    }
}

extension BackendResponse {
    static func notFound(_ request: BackendRequest) -> BackendResponse {
        .error(.notFound, "no route for \(request.method.rawValue) \(request.path)")
    }
}
