import ArchbenchCore
import Foundation
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// `archbench serve`: the embedded reference backends. Each `run…` blocks until SIGTERM or SIGINT,
/// then shuts down and returns; progress goes to `log`, one line at a time.
public enum ReferenceBackends {
    public static let defaultPoolSize = 10
    /// How long the gateway (and the orders service, on its way to users) waits for a service's answer.
    public static let defaultUpstreamTimeoutMs = Int(UpstreamPool.defaultRequestTimeout.nanoseconds / 1_000_000)
    public static let upstreamTimeoutMsRange = 1...3_600_000

    /// One multi-threaded process serving the whole API and the WebSocket endpoints.
    public static func runMonolith(port: Int, faults: FaultSpec, log: @escaping (String) -> Void) throws(BackendError) {
        let runtime = ProcessRuntime(faults: faults, service: nil)
        defer { runtime.shutdown() }
        let catalog = Catalog()
        let routes = RouteList(routes: [
            HealthRoute(), CatalogRoute(catalog: catalog), OrdersRoute(book: OrderBook(), lookup: catalog),
            TrainingRoute(pool: runtime.threadPool, faults: runtime.faults),
        ])
        let server = try HTTPServer(port: port, group: runtime.group, route: FaultRoute(inner: routes, faults: runtime.faults),
                                    webSocket: WebSocketHub(), faults: runtime.faults)
        defer { server.close() }
        runtime.startFaults()
        log("monolith listening on 127.0.0.1:\(server.port) (http://127.0.0.1:\(server.port), "
            + "ws://127.0.0.1:\(server.port)/ws), pid \(getpid()), \(runtime.threads) event loop threads\(runtime.faultSummary)")
        let signal = waitForStopSignal()
        log("\(signalName(signal)): monolith stopping")
    }

    /// The gateway of the microservices set: starts the services, forwards to them, supervises them.
    public static func runMicroservices(port: Int, wsPort: Int, poolSize: Int,
                                        upstreamTimeoutMs: Int = defaultUpstreamTimeoutMs, faults plan: FaultPlan,
                                        log: @escaping (String) -> Void) throws(BackendError) {
        let runtime = ProcessRuntime(faults: plan.spec(for: .gateway), service: .gateway)
        defer { runtime.shutdown() }
        let gateway = GatewayRoute()
        let server = try HTTPServer(port: port, group: runtime.group,
                                    route: FaultRoute(inner: RouteList(routes: [HealthRoute(), gateway]), faults: runtime.faults),
                                    webSocket: nil, faults: runtime.faults)
        defer { server.close() }
        let supervisor = Supervisor(log: log) { service, up in gateway.upstreams.load()?.setUp(service, up) }
        var stopSignal = SIGTERM
        defer { supervisor.stopAll(forwarding: stopSignal) }

        // Orders waits for users no longer than the gateway waits for orders, so a stalled users
        // service does not hold the orders service's connections after the gateway gave up.
        let pool = ["--pool-size", "\(poolSize)", "--upstream-timeout-ms", "\(upstreamTimeoutMs)"]
        let users = try supervisor.start(.users, port: 0, arguments: plan.spec(for: .users).arguments)
        let orders = try supervisor.start(.orders, port: 0,
                                          arguments: ["--upstream", "users=\(users)"] + pool + plan.spec(for: .orders).arguments)
        let training = try supervisor.start(.training, port: 0, arguments: plan.spec(for: .training).arguments)
        let ws = try supervisor.start(.ws, port: wsPort, arguments: plan.spec(for: .ws).arguments)
        let upstreams: Upstreams
        do {
            upstreams = try Upstreams(group: runtime.group, ports: [.users: users, .orders: orders, .training: training],
                                      poolSize: poolSize, requestTimeout: .milliseconds(Int64(upstreamTimeoutMs)))
        } catch {
            throw .system("cannot set up the connection pools: \(error)")
        }
        _ = gateway.upstreams.storeIfNilThenLoad(upstreams)
        runtime.startFaults()
        let services = ServiceName.spawned.compactMap { service in
            supervisor.children[service].map { "\(service.rawValue) pid \($0.pid ?? 0) port \($0.port)" }
        }
        log("microservices listening on 127.0.0.1:\(server.port) (http://127.0.0.1:\(server.port), "
            + "ws://127.0.0.1:\(ws)/ws), pid \(getpid()); services: \(services.joined(separator: ", "))"
            + runtime.faultSummary)
        stopSignal = try supervisor.supervise()
        log("\(signalName(stopSignal)): stopping the gateway and its services")
    }

    /// One service of the microservices set, as the gateway starts it. With `readyFD`, writes
    /// `ready PORT` there once listening, or `error CODE MESSAGE` when it cannot start.
    public static func runService(_ service: ServiceName, port: Int, usersPort: Int?, poolSize: Int,
                                  upstreamTimeoutMs: Int = defaultUpstreamTimeoutMs, faults: FaultSpec,
                                  readyFD: Int32?, log: @escaping (String) -> Void) throws(BackendError) {
        // The process name (comm) tells the services apart in ps, /proc and the probes' reports; the main
        // thread's comm is the process's, and proc(5) lets a thread rename itself through this file.
        try? "ab-\(service.rawValue)".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        let runtime = ProcessRuntime(faults: faults, service: service)
        defer { runtime.shutdown() }
        let server: HTTPServer
        do throws(BackendError) {
            var routes: [any Route] = [HealthRoute()]
            switch service {
            case .users:
                routes.append(CatalogRoute(catalog: Catalog()))
            case .orders:
                guard let usersPort else { throw BackendError.usage("the orders service needs --upstream users=PORT") }
                let upstreams: Upstreams
                do {
                    upstreams = try Upstreams(group: runtime.group, ports: [.users: usersPort], poolSize: poolSize,
                                              requestTimeout: .milliseconds(Int64(upstreamTimeoutMs)))
                } catch {
                    throw BackendError.system("cannot set up the connection pool to users: \(error)")
                }
                routes.append(OrdersRoute(book: OrderBook(), lookup: RemoteCatalog(upstreams: upstreams)))
            case .training:
                routes.append(TrainingRoute(pool: runtime.threadPool, faults: runtime.faults))
            case .ws, .gateway:
                break
            }
            server = try HTTPServer(port: port, group: runtime.group,
                                    route: FaultRoute(inner: RouteList(routes: routes), faults: runtime.faults),
                                    webSocket: service == .ws ? WebSocketHub() : nil, faults: runtime.faults)
        } catch {
            readyFD.map { tell($0, "error \(error.exitCode.rawValue) \(error.description)") }
            throw error
        }
        defer { server.close() }
        runtime.startFaults()
        readyFD.map { tell($0, "ready \(server.port)") }
        log("\(service.rawValue) service listening on 127.0.0.1:\(server.port), pid \(getpid())\(runtime.faultSummary)")
        _ = waitForStopSignal()
    }

    private static func waitForStopSignal() -> Int32 {
        while true {
            if let signal = Signals.wait(timeout: .seconds(1)), signal != SIGCHLD { return signal }
        }
    }

    /// Writes one line to the gateway's ready pipe and closes it.
    private static func tell(_ fd: Int32, _ line: String) {
        let bytes = Array((line.replacingOccurrences(of: "\n", with: " ") + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// What every server process has: event loops, a thread pool for CPU-bound work, its faults.
final class ProcessRuntime {
    let group: MultiThreadedEventLoopGroup
    let threadPool: NIOThreadPool
    let faults: FaultRuntime
    let threads = System.coreCount

    init(faults spec: FaultSpec, service: ServiceName?) {
        // Before any thread starts, so that every thread inherits the blocked signals.
        Signals.takeOver()
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        threadPool = NIOThreadPool(numberOfThreads: threads)
        threadPool.start()
        let stopTheWorld = spec.pauseEveryMs > 0
            ? StopTheWorld(everyMs: spec.pauseEveryMs, lengthMs: spec.pauseMs, group: group) : nil
        faults = FaultRuntime(spec: spec, service: service, stopTheWorld: stopTheWorld)
    }

    func startFaults() { faults.stopTheWorld?.start() }

    var faultSummary: String {
        let flags = faults.spec.arguments
        return flags.isEmpty ? "" : "; faults: \(flags.joined(separator: " "))"
    }

    func shutdown() {
        try? threadPool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }
}
