import Analysis
import CCairo
import Foundation
import Recording
@testable import Reports
import XCTest

/// The heatmap PNG read back: its size, and the colour of cells whose contents the fixture fixes.
final class LatencyHeatmapTests: XCTestCase {
    static let second: UInt64 = 1_000_000_000
    static let window: UInt64 = 100_000_000

    /// A load of ten 100 ms windows starting at `start`, each with `responses(i)` as
    /// `[bucket: count]`.
    func load(start: UInt64, _ responses: (Int) -> [Int: UInt32]) -> LoadResult {
        let windows = (0..<10).map { index in
            var counts = [UInt32](repeating: 0, count: 20)
            for (bucket, count) in responses(index) { counts[bucket] = count }
            return LoadWindow(startNs: start + UInt64(index) * Self.window, responses: UInt64(counts.reduce(0, +)), errors: 0,
                              p50Us: 0, p90Us: 0, p99Us: 0, maxUs: 0, log2Counts: counts)
        }
        let summary = LatencySummary(p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0)
        return LoadResult(url: "http://127.0.0.1/", threads: 1, connections: 1, mode: "closed", requests: 0, sent: 0, durationS: 1,
                          requestsPerS: 0, latencyUs: summary, errors: ErrorCounts(), statusCounts: [:], achievedRate: 0,
                          lateSends: 0, droppedSends: 0, bytesRead: 0, bytesWritten: 0, connects: 0, pingsAnswered: 0,
                          serverCloses: 0, startNs: start, endNs: start + Self.second, endpoints: [], windows: windows,
                          slowRequests: [], slowRequestsDropped: 0, windowsDropped: 0, stoppedEarly: false)
    }

    func round(_ benchmark: String, _ architecture: String, _ number: Int, start: UInt64, load: LoadResult?) -> BenchmarkRound {
        let result = load.map {
            BenchmarkResult(throughput: 1, latencyStats: BenchmarkLatency(mean: 0, p50: 0, p95: 0, p99: 0, max: 0), successRate: 1,
                            loads: [$0])
        }
        return BenchmarkRound(benchmark: benchmark, architecture: architecture, round: number, startNs: start, endNs: start + Self.second,
                              result: result, error: load == nil ? "the architecture's processes died" : nil, latencyHistogramLog2Us: [])
    }

    func results(_ rounds: [BenchmarkRound]) -> SuiteResults {
        SuiteResults(timestamp: "2026-11-30T10:00:00Z", workload: "default", durationS: 1, architectures: ["mono", "micro"],
                     baseline: "mono", candidate: "micro", probes: "off", notes: [:], results: ["mono": [:], "micro": [:]],
                     latencyHistograms: [:], rounds: rounds, kernel: [:], validation: Validation.judge([]), analysis: SuiteAnalysis(),
                     failures: [], thresholds: [:], exitCode: 0, exitReason: "", recommendations: [], executionTimeS: 1)
    }

    /// "ws" runs first, then "api". In "api", mono answers everything in bucket 5 (32–64 µs) and its
    /// third round fails; micro answers in bucket 6, except its second round's fourth window, whose
    /// every response took bucket 12 (4–8 ms): a pause.
    func sample() -> SuiteResults {
        let base: UInt64 = 1_000 * Self.second
        var rounds = [round("ws", "mono", 1, start: base, load: load(start: base) { _ in [3: 10] }),
                      round("ws", "micro", 1, start: base + 2 * Self.second, load: load(start: base + 2 * Self.second) { _ in [4: 10] })]
        var start = base + 10 * Self.second
        for number in 1...2 {
            rounds.append(round("api", "mono", number, start: start, load: load(start: start) { _ in [5: 50] }))
            start += 2 * Self.second
            rounds.append(round("api", "micro", number, start: start, load: load(start: start) { number == 2 && $0 == 3 ? [12: 40] : [6: 50] }))
            start += 2 * Self.second
        }
        rounds.append(round("api", "mono", 3, start: start, load: nil))
        return results(rounds)
    }

    func testThePNGDecodesAtTheLayoutsSize() throws {
        let results = sample()
        let data = try LatencyHeatmap.png(results)
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
        let layout = LatencyHeatmap.Layout(results)
        let image = try Image(png: data)
        XCTAssertEqual([image.width, image.height], [layout.width, layout.height])

        guard let identify = ["/usr/bin/identify", "/usr/local/bin/identify"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { throw XCTSkip("ImageMagick's identify is not installed (apt-get install imagemagick)") }
        let file = FileManager.default.temporaryDirectory.appending(path: "ab-heatmap-\(UUID().uuidString).png")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: identify)
        process.arguments = ["-format", "%w %h", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "\(layout.width) \(layout.height)")
    }

    func testRowsFollowTheRunAndColumnsPutTheBaselineLeftOnOneLatencyScale() throws {
        let layout = LatencyHeatmap.Layout(sample())
        XCTAssertEqual(layout.rows.map { $0.map(\.benchmark) }, [["ws", "ws"], ["api", "api"]])
        XCTAssertEqual(layout.rows.map { $0.map(\.architecture) }, [["mono", "micro"], ["mono", "micro"]])
        let api = try XCTUnwrap(layout.panel(benchmark: "api", architecture: "micro"))
        let mono = try XCTUnwrap(layout.panel(benchmark: "api", architecture: "mono"))
        XCTAssertLessThan(mono.plot.maxX, api.plot.x)
        // The row shows the buckets used in either column, and only those.
        XCTAssertEqual(api.buckets, 5...12)
        XCTAssertEqual(mono.buckets, 5...12)
        XCTAssertEqual(layout.panel(benchmark: "ws", architecture: "mono")?.buckets, 3...4)
        // Rounds back to back: mono's three rounds (the last one failed), micro's two.
        XCTAssertEqual(mono.series.roundStarts, [1, 2])
        XCTAssertEqual(api.series.roundStarts, [1])
    }

    func testTheHotCellHasTheTopColourAndItsNeighboursTheEmptyOnes() throws {
        let results = sample()
        let layout = LatencyHeatmap.Layout(results)
        let image = try Image(png: try LatencyHeatmap.png(results))
        let micro = try XCTUnwrap(layout.panel(benchmark: "api", architecture: "micro"))
        let mono = try XCTUnwrap(layout.panel(benchmark: "api", architecture: "mono"))
        let hottest = LatencyHeatmap.viridis.last!, none = LatencyHeatmap.emptyCell, failed = LatencyHeatmap.noResponses

        // Micro's second round, fourth window: everything in bucket 12, nothing in 6.
        let pause = 1.35
        XCTAssertEqual(image.color(at: try XCTUnwrap(micro.cell(seconds: pause, bucket: 12))), hottest)
        XCTAssertEqual(image.color(at: try XCTUnwrap(micro.cell(seconds: pause, bucket: 6))), none)
        // The windows around it: everything in bucket 6, nothing in 12.
        XCTAssertEqual(image.color(at: try XCTUnwrap(micro.cell(seconds: pause + 0.1, bucket: 6))), hottest)
        XCTAssertEqual(image.color(at: try XCTUnwrap(micro.cell(seconds: pause + 0.1, bucket: 12))), none)
        XCTAssertEqual(image.color(at: try XCTUnwrap(micro.cell(seconds: 0.05, bucket: 12))), none)
        // Mono: bucket 5 in its two rounds, and no responses at all in the failed third.
        XCTAssertEqual(image.color(at: try XCTUnwrap(mono.cell(seconds: 1.35, bucket: 5))), hottest)
        XCTAssertEqual(image.color(at: try XCTUnwrap(mono.cell(seconds: 1.35, bucket: 6))), none)
        XCTAssertEqual(image.color(at: try XCTUnwrap(mono.cell(seconds: 2.5, bucket: 5))), failed)
        XCTAssertNil(mono.cell(seconds: 0.5, bucket: 13))
    }

    func testASplitWindowIsColouredByShareOnTheLogScale() {
        XCTAssertEqual(LatencyHeatmap.color(share: 1), LatencyHeatmap.viridis.last)
        XCTAssertEqual(LatencyHeatmap.color(share: LatencyHeatmap.leastShare), LatencyHeatmap.viridis.first)
        XCTAssertEqual(LatencyHeatmap.color(share: LatencyHeatmap.leastShare / 10), LatencyHeatmap.viridis.first)
        // 10^-1.5 is halfway along the log scale: the middle anchor.
        let middle = LatencyHeatmap.color(share: pow(10, -1.5)), anchor = LatencyHeatmap.viridis[4]
        XCTAssertEqual(middle.red, anchor.red, accuracy: 1e-9)
        XCTAssertEqual(middle.green, anchor.green, accuracy: 1e-9)
        XCTAssertEqual(middle.blue, anchor.blue, accuracy: 1e-9)
    }

    func testBucketsAreLabelledByTheirLowerEdgeInUnits() {
        XCTAssertEqual([0, 1, 9, 10, 19, 20, 21].map(LatencyHeatmap.latencyLabel), ["0", "2 µs", "512 µs", "1 ms", "512 ms", "1 s", "2 s"])
    }

    func testARunWithoutWindowsSaysSoInsteadOfThrowing() throws {
        let base: UInt64 = 1_000 * Self.second
        let results = results([round("api", "mono", 1, start: base, load: nil), round("api", "micro", 1, start: base + Self.second, load: nil)])
        let layout = LatencyHeatmap.Layout(results)
        let image = try Image(png: try LatencyHeatmap.png(results))
        XCTAssertEqual([image.width, image.height], [layout.width, layout.height])
        // The message is the only thing drawn below the title.
        let message = LatencyHeatmap.Rect(x: 0, y: 90, width: Double(layout.width), height: Double(layout.height) - 90)
        XCTAssertTrue(image.anyPixel(in: message) { $0 != .white })
    }

    func testLongNamesAreCut() {
        XCTAssertEqual(LatencyHeatmap.bounded(String(repeating: "x", count: 300)).count, 40)
        XCTAssertEqual(LatencyHeatmap.bounded("api_response_times"), "api_response_times")
    }
}

/// A PNG decoded by cairo, independent of how it was drawn.
private struct Image {
    var width: Int
    var height: Int
    var stride: Int
    var pixels: [UInt8]

    init(png: Data) throws {
        final class Source {
            var data: Data
            var offset = 0
            init(_ data: Data) { self.data = data }
        }
        let source = Source(png)
        let surface = cairo_image_surface_create_from_png_stream({ closure, buffer, length in
            let source = Unmanaged<Source>.fromOpaque(closure!).takeUnretainedValue()
            guard let buffer, source.offset + Int(length) <= source.data.count else { return CAIRO_STATUS_READ_ERROR }
            source.data.copyBytes(to: buffer, from: source.offset..<source.offset + Int(length))
            source.offset += Int(length)
            return CAIRO_STATUS_SUCCESS
        }, Unmanaged.passUnretained(source).toOpaque())
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw NSError(domain: "cairo cannot decode the PNG: \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))", code: 1)
        }
        cairo_surface_flush(surface)
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        stride = Int(cairo_image_surface_get_stride(surface))
        pixels = Array(UnsafeBufferPointer(start: cairo_image_surface_get_data(surface), count: stride * height))
    }

    /// cairo keeps each pixel as a native-endian 0xAARRGGBB word.
    func color(x: Int, y: Int) -> RGB {
        let word = pixels.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: y * stride + x * 4, as: UInt32.self) }
        return RGB(hex: word & 0xffffff)
    }

    /// The colour at the rectangle's middle, where no neighbour's edge can reach.
    func color(at rect: LatencyHeatmap.Rect) -> RGB {
        color(x: Int(rect.midX), y: Int(rect.midY))
    }

    func anyPixel(in rect: LatencyHeatmap.Rect, _ matches: (RGB) -> Bool) -> Bool {
        for y in Int(rect.y)..<min(Int(rect.maxY), height) {
            for x in Int(rect.x)..<min(Int(rect.maxX), width) where matches(color(x: x, y: y)) { return true }
        }
        return false
    }
}
