import CLoadGen
import Load
import Recording
import XCTest

/// A load's histogram as kept in the results: read back, percentiles agree with the load
/// generator's own, and histograms merge to the histogram of all their values.
final class HistogramRecordTests: XCTestCase {
    /// The C histogram of `values` (ns) and its record, built as LoadRun builds one.
    func histogram(_ values: [UInt64]) -> (OpaquePointer?, LatencyHistogramRecord) {
        let bits = UInt32(AB_HISTOGRAM_PRECISE_BITS)
        let h = ab_histogram__new(bits)!
        var counts: [UInt64: UInt64] = [:]
        for value in values {
            ab_histogram__record(h, value)
            counts[UInt64(ab_histogram__index(bits, value)), default: 0] += 1
        }
        let record = LatencyHistogramRecord(bits: bits, sumNs: values.reduce(0, +), maxNs: values.max() ?? 0,
                                            buckets: counts.keys.sorted().map { [$0, counts[$0] ?? 0] })
        return (OpaquePointer(h), record)
    }

    func testPercentilesAgreeWithTheLoadGeneratorsOwn() {
        let values = (1...5000).map { UInt64($0) * 997 + UInt64($0 % 7) * 123_457 }
        let (h, record) = histogram(values)
        defer { ab_histogram__free(UnsafeMutablePointer(h)) }
        XCTAssertEqual(record.count, 5000)
        for p in [1.0, 50, 90, 95, 99, 99.9, 100] {
            XCTAssertEqual(record.percentileNs(p), ab_histogram__percentile(UnsafeMutablePointer(h), p), "p\(p)")
        }
        XCTAssertEqual(record.meanNs, Double(values.reduce(0, +)) / 5000, accuracy: 1e-6)
    }

    func testHalvesMergeToTheWhole() throws {
        let values = (1...3000).map { UInt64($0) * 31_337 }
        let (whole, all) = histogram(values)
        let (first, a) = histogram(Array(values.prefix(1000)))
        let (second, b) = histogram(Array(values.dropFirst(1000)))
        defer { [whole, first, second].forEach { ab_histogram__free(UnsafeMutablePointer($0)) } }
        let merged = try XCTUnwrap(LatencyHistogramRecord.merging([a, b]))
        XCTAssertEqual(merged, all)
        XCTAssertNil(LatencyHistogramRecord.merging([a, LatencyHistogramRecord(bits: 4, sumNs: 0, maxNs: 0, buckets: [])]),
                     "different bucketings do not merge")
        XCTAssertNil(LatencyHistogramRecord.merging([]))
    }
}
