#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import CLoadGen
import Foundation
import Recording

/// Live counters of a run in progress.
public struct LoadProgress: Sendable {
    public var elapsedSeconds: Double
    public var sent: UInt64
    public var completed: UInt64
    public var errors: UInt64
}

/// Owns one `struct ab_load_run` (CSources/CLoadGen) from start to destroy. The C strings of the
/// configuration only need to live through `ab_load_run__start`, which copies what the threads use.
public final class LoadRun: @unchecked Sendable {
    private let handle: OpaquePointer
    public let config: LoadConfig
    private var waited = false
    private let lock = NSLock()

    /// Checks that the target accepts a connection (within 5 s), then starts the threads.
    public init(_ config: LoadConfig) throws(LoadError) {
        self.config = config
        let target = config.target
        Self.allowFileDescriptors(config.connections + 64)
        let refused = target.connectError(within: 5)
        guard refused == 0 else { throw .unreachable(target, errno: refused) }
        let endpoints = config.effectiveEndpoints
        var strings: [UnsafeMutablePointer<CChar>?] = []
        defer { strings.forEach { free($0) } }
        func keep(_ text: String?) -> UnsafePointer<CChar>? {
            guard let text else { return nil }
            let copy = strdup(text)
            strings.append(copy)
            return UnsafePointer(copy)
        }
        let cEndpoints = endpoints.map { endpoint in
            let headers = endpoint.headers.map { $0 + "\r\n" }.joined()
            return ab_load_endpoint(
                method: keep(endpoint.method), path: keep(endpoint.path),
                headers: headers.isEmpty ? nil : keep(headers), body: keep(endpoint.body),
                body_length: endpoint.body?.utf8.count ?? 0, weight: endpoint.weight)
        }
        let host = keep(target.host)
        // errno is read inside the closure, right after the call that failed: once the closure has
        // returned, other code (a release, a free) may have changed it.
        let started: Result<OpaquePointer, LoadError> = cEndpoints.withUnsafeBufferPointer { buffer in
            var c = ab_load_config()
            c.host = host
            c.port = target.port
            c.threads = UInt32(config.threads)
            c.connections = UInt32(config.connections)
            c.duration_s = config.duration
            c.max_requests = config.maxRequests ?? 0
            c.rate = config.rate ?? 0
            c.timeout_s = config.timeout
            c.pipeline_depth = UInt32(config.pipelineDepth)
            c.close_each = config.closeEach ? 1 : 0
            c.endpoints = buffer.baseAddress
            c.endpoint_count = buffer.count
            c.websocket = config.websocket ? 1 : 0
            c.websocket_text = config.websocketText ? 1 : 0
            c.message_bytes = UInt32(config.messageBytes)
            c.window_ns = UInt64(config.windowMilliseconds * 1e6)
            c.slow_capacity = UInt32(config.slowCapacity)
            guard let run = ab_load_run__start(&c) else { return .failure(.startFailed(errno: errno)) }
            return .success(run)
        }
        handle = try started.get()
    }

    deinit {
        ab_load_run__destroy(handle)
    }

    /// Raises the soft limit on open files up to the hard one when the connections need it
    /// (10 000 connections are over the usual soft limit of 1024).
    static func allowFileDescriptors(_ needed: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(needed) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(needed))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Live counters; also moves the threads' per-window and slow-request records into the run.
    public func poll() -> LoadProgress {
        var progress = ab_load_progress()
        ab_load_run__poll(handle, &progress)
        return LoadProgress(elapsedSeconds: Double(progress.elapsed_ns) / 1e9, sent: progress.requests,
                            completed: progress.responses, errors: progress.errors)
    }

    /// Asks the threads to stop sending (e.g. on Ctrl-C); what was measured is kept.
    public func stop() {
        ab_load_run__stop(handle)
    }

    public var isFinished: Bool { ab_load_run__finished(handle) != 0 }

    /// Joins the threads and reads the results.
    public func result(stoppedEarly: Bool = false) -> LoadResult {
        lock.withLock {
            if !waited {
                ab_load_run__wait(handle)
                waited = true
            }
        }
        var all = ab_load_totals()
        _ = ab_load_run__totals(handle, -1, &all)
        let endpoints = config.effectiveEndpoints
        let openLoop = config.rate != nil
        let duration = Double(all.end_ns &- all.start_ns) / 1e9
        let sendWindow = Double(all.send_window_ns) / 1e9
        let perEndpoint = endpoints.enumerated().map { index, endpoint in
            var totals = ab_load_totals()
            _ = ab_load_run__totals(handle, Int32(index), &totals)
            return EndpointResult(
                method: endpoint.method, path: endpoint.path, weight: endpoint.weight, sent: totals.requests,
                requests: totals.responses, requestsPerS: duration > 0 ? Double(totals.responses) / duration : 0,
                latencyUs: latency(Int32(index), AB_LATENCY_CORRECTED),
                uncorrectedLatencyUs: openLoop ? latency(Int32(index), AB_LATENCY_UNCORRECTED) : nil,
                errors: Self.errors(totals), statusCounts: Self.statuses(totals))
        }
        let mode = config.websocket ? "websocket" : "http"
        return LoadResult(
            url: config.target.description, threads: config.threads, connections: config.connections,
            mode: "\(mode) \(openLoop ? "open loop" : "closed loop")",
            requests: all.responses, sent: all.requests, durationS: duration,
            requestsPerS: duration > 0 ? Double(all.responses) / duration : 0,
            latencyUs: latency(-1, AB_LATENCY_CORRECTED), errors: Self.errors(all), statusCounts: Self.statuses(all),
            targetRate: config.rate, uncorrectedLatencyUs: openLoop ? latency(-1, AB_LATENCY_UNCORRECTED) : nil,
            achievedRate: sendWindow > 0 ? Double(all.requests) / sendWindow : 0,
            sendLagUs: openLoop ? latency(-1, AB_LATENCY_SEND_LAG) : nil,
            lateSends: all.late_sends, droppedSends: all.dropped_sends, bytesRead: all.bytes_read,
            bytesWritten: all.bytes_written, connects: all.connects, pingsAnswered: all.pings_answered,
            serverCloses: all.server_closes, startNs: all.start_ns, endNs: all.end_ns, endpoints: perEndpoint,
            windows: windows(), slowRequests: slowRequests(), slowRequestsDropped: all.slow_dropped,
            windowsDropped: all.windows_dropped, stoppedEarly: stoppedEarly,
            latencyHistogram: histogram(-1, AB_LATENCY_CORRECTED))
    }

    // MARK: - Reading the C side

    private func histogram(_ endpoint: Int32, _ kind: ab_latency_kind) -> LatencyHistogramRecord? {
        var bits: UInt32 = 0, sum: UInt64 = 0, max: UInt64 = 0
        var capacity = 4096
        while true {
            var pairs = [UInt64](repeating: 0, count: 2 * capacity)
            let found = ab_load_run__histogram(handle, endpoint, kind, &bits, &sum, &max, &pairs, capacity)
            guard found >= 0 else { return nil }
            if found > capacity {
                capacity = found
                continue
            }
            return LatencyHistogramRecord(bits: bits, sumNs: sum, maxNs: max,
                                          buckets: (0..<found).map { [pairs[2 * $0], pairs[2 * $0 + 1]] })
        }
    }

    private func latency(_ endpoint: Int32, _ kind: ab_latency_kind) -> LatencySummary {
        func us(_ percentile: Double) -> Double {
            Self.micros(ab_load_run__latency(handle, endpoint, kind, percentile))
        }
        return LatencySummary(p50: us(50), p90: us(90), p95: us(95), p99: us(99), p999: us(99.9), max: us(100),
                              mean: (ab_load_run__latency_mean(handle, endpoint, kind) / 100).rounded() / 10)
    }

    private func windows() -> [LoadWindow] {
        let count = ab_load_run__window_count(handle)
        var raw = [ab_load_window](repeating: ab_load_window(), count: count)
        let got = ab_load_run__windows(handle, &raw, count)
        return raw.prefix(got).map { window in
            let buckets = withUnsafeBytes(of: window.log2_counts) { Array($0.bindMemory(to: UInt32.self)) }
            let lastUsed = buckets.lastIndex { $0 != 0 }.map { $0 + 1 } ?? 0
            return LoadWindow(
                startNs: window.start_ns, responses: window.responses, errors: window.errors,
                p50Us: Self.micros(window.p50_ns), p90Us: Self.micros(window.p90_ns),
                p99Us: Self.micros(window.p99_ns), maxUs: Self.micros(window.max_ns),
                log2Counts: Array(buckets.prefix(lastUsed)))
        }
    }

    private func slowRequests() -> [SlowRequest] {
        let count = ab_load_run__slow_count(handle)
        var raw = [ab_slow_request](repeating: ab_slow_request(), count: count)
        let got = ab_load_run__slow_requests(handle, &raw, count)
        return raw.prefix(got).map {
            SlowRequest(intendedNs: $0.intended_ns, sentNs: $0.sent_ns, endNs: $0.end_ns, connection: $0.connection,
                        endpoint: Int($0.endpoint), status: Int($0.status))
        }
    }

    static func micros(_ nanoseconds: UInt64) -> Double {
        (Double(nanoseconds) / 100).rounded() / 10
    }

    static func errors(_ totals: ab_load_totals) -> ErrorCounts {
        let e = withUnsafeBytes(of: totals.errors) { Array($0.bindMemory(to: UInt64.self)) }
        return ErrorCounts(
            connect: e[Int(AB_ERR_CONNECT.rawValue)], read: e[Int(AB_ERR_READ.rawValue)],
            write: e[Int(AB_ERR_WRITE.rawValue)], timeout: e[Int(AB_ERR_TIMEOUT.rawValue)],
            status: e[Int(AB_ERR_STATUS.rawValue)], parse: e[Int(AB_ERR_PARSE.rawValue)])
    }

    static func statuses(_ totals: ab_load_totals) -> [String: UInt64] {
        withUnsafeBytes(of: totals.status_counts) { raw in
            var counts: [String: UInt64] = [:]
            for (status, count) in raw.bindMemory(to: UInt64.self).enumerated() where count > 0 {
                counts[status == 0 ? "other" : String(status)] = count
            }
            return counts
        }
    }
}

/// Runs a load to its end (duration, request budget, or a stop), polling every 100 ms so the
/// per-window records are drained and progress can be shown.
public enum LoadGenerator {
    public static func run(_ config: LoadConfig, progress: ((LoadProgress) -> Void)? = nil) throws -> LoadResult {
        let run = try LoadRun(config)
        let stop = StopFlag<LoadEnd>()
        let trap = SignalTrap(signals: [SIGINT, SIGTERM]) { _ in
            stop.raise(.signal)
            run.stop()
        }
        defer { trap.cancel() }
        let end = stop.poll(slice: { 0.1 }) {
            progress?(run.poll())
            return run.isFinished ? .finished : nil
        }
        return run.result(stoppedEarly: end == .signal)
    }
}

/// Why a load ended: on its own (duration or request budget), or on SIGINT/SIGTERM.
enum LoadEnd: Sendable, Equatable {
    case finished
    case signal
}

extension LatencyHistogramRecord {
    /// The value at `percentile` (0–100], by the load generator's own rule (the highest value of
    /// the bucket holding the nearest rank, bpf/log_linear.h), in ns; the exact maximum at 100.
    public func percentileNs(_ percentile: Double) -> UInt64 {
        let total = count
        guard total > 0 else { return 0 }
        if percentile >= 100 { return maxNs }
        let wanted = ab_log_linear_rank(percentile, total)
        var seen: UInt64 = 0
        for bucket in buckets where bucket.count > 1 {
            seen += bucket[1]
            if seen >= wanted {
                return Swift.min(ab_histogram__highest(bits, UInt32(bucket[0])), maxNs)
            }
        }
        return maxNs
    }

    public var meanNs: Double {
        let total = count
        return total > 0 ? Double(sumNs) / Double(total) : 0
    }
}
