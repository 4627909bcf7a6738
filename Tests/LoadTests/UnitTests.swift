import CLoadGen
import XCTest

/// The load generator's pure units: the histogram, WebSocket framing and handshake keys.
final class HistogramTests: XCTestCase {
    func testExactBelowTheSubBucketCountAndThreeDigitsAbove() throws {
        let h = try XCTUnwrap(ab_histogram__new(UInt32(AB_HISTOGRAM_PRECISE_BITS)))
        defer { ab_histogram__free(h) }
        for value in 1...100_000 { ab_histogram__record(h, UInt64(value)) }
        XCTAssertEqual(h.pointee.total, 100_000)
        XCTAssertEqual(ab_histogram__percentile(h, 100), 100_000)
        for percentile in [1.0, 10, 50, 90, 99, 99.9] {
            let expected = percentile / 100 * 100_000
            let got = Double(ab_histogram__percentile(h, percentile))
            // Buckets are at most 1/1024 of their value wide: three significant digits.
            XCTAssertEqual(got, expected, accuracy: expected / 1000 + 1, "p\(percentile)")
        }
        XCTAssertEqual(ab_histogram__percentile(h, 0.001), 1)
    }

    func testClampsAtSixtySecondsAndMergesCounts() throws {
        let a = try XCTUnwrap(ab_histogram__new(UInt32(AB_HISTOGRAM_COARSE_BITS)))
        let b = try XCTUnwrap(ab_histogram__new(UInt32(AB_HISTOGRAM_COARSE_BITS)))
        defer { ab_histogram__free(a); ab_histogram__free(b) }
        ab_histogram__record(a, 5)
        ab_histogram__record(b, 120_000_000_000)
        XCTAssertEqual(ab_histogram__merge(a, b), 0)
        XCTAssertEqual(a.pointee.total, 2)
        XCTAssertEqual(a.pointee.max, AB_HISTOGRAM_MAX_NS)
        XCTAssertEqual(ab_histogram__percentile(a, 50), 5)
        let precise = try XCTUnwrap(ab_histogram__new(UInt32(AB_HISTOGRAM_PRECISE_BITS)))
        defer { ab_histogram__free(precise) }
        XCTAssertEqual(ab_histogram__merge(precise, a), -EINVAL, "different precisions do not merge")
    }

    func testBucketBoundsCoverEveryValue() {
        for bits in [UInt32(AB_HISTOGRAM_COARSE_BITS), UInt32(AB_HISTOGRAM_PRECISE_BITS)] {
            for value: UInt64 in [0, 1, 15, 16, 17, 1000, 2047, 2048, 2049, 123_456_789, AB_HISTOGRAM_MAX_NS] {
                let index = ab_histogram__index(bits, value)
                XCTAssertLessThanOrEqual(ab_histogram__lowest(bits, index), value)
                XCTAssertGreaterThanOrEqual(ab_histogram__highest(bits, index), value)
            }
        }
    }
}

final class WebSocketFrameTests: XCTestCase {
    func testRFC6455AcceptExample() {
        var accept = [CChar](repeating: 0, count: Int(AB_WS_ACCEPT_BYTES))
        ab_ws_handshake__accept("dGhlIHNhbXBsZSBub25jZQ==", &accept)
        XCTAssertEqual(String(cString: accept), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testEncodeThenParseRoundTripsEverySizeClass() {
        for size in [0, 5, 125, 126, 65_535, 65_536] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7) }
            var frame = [UInt8](repeating: 0, count: size + Int(AB_WS_MAX_HEADER))
            let length = ab_ws_frame__encode(&frame, AB_WS_BINARY, payload, size, 0xA1B2_C3D4)
            var parsed = ab_ws_frame()
            XCTAssertEqual(ab_ws_frame__parse(frame, length, &parsed), AB_WS_FRAME, "size \(size)")
            XCTAssertEqual(parsed.payload_length, UInt64(size))
            XCTAssertEqual(parsed.masked, 1)
            XCTAssertEqual(parsed.opcode, UInt8(AB_WS_BINARY.rawValue))
            var body = Array(frame[parsed.header_length..<length])
            withUnsafeBytes(of: parsed.mask) { mask in
                ab_ws_frame__unmask(&body, UInt64(body.count), mask.bindMemory(to: UInt8.self).baseAddress)
            }
            XCTAssertEqual(body, payload)
            XCTAssertEqual(ab_ws_frame__parse(frame, length - 1, &parsed), AB_WS_NEED_MORE, "one byte short")
        }
    }

    func testRejectsWhatTheRFCForbids() {
        var frame = ab_ws_frame()
        XCTAssertEqual(ab_ws_frame__parse([0xC1, 0x00], 2, &frame), AB_WS_INVALID, "reserved bit")
        XCTAssertEqual(ab_ws_frame__parse([0x83, 0x00], 2, &frame), AB_WS_INVALID, "unknown opcode")
        XCTAssertEqual(ab_ws_frame__parse([0x09, 0x00], 2, &frame), AB_WS_INVALID, "fragmented ping")
        XCTAssertEqual(ab_ws_frame__parse([0x89, 0x7E, 0x00, 0xFF], 4, &frame), AB_WS_INVALID, "ping over 125 bytes")
        XCTAssertEqual(ab_ws_frame__parse([0x82], 1, &frame), AB_WS_NEED_MORE)
        XCTAssertEqual(ab_ws_frame__parse([0x82, 0x03, 0x61, 0x62, 0x63], 5, &frame), AB_WS_FRAME)
        XCTAssertEqual(frame.masked, 0)
        XCTAssertEqual(frame.header_length, 2)
    }
}

/// The bucketing shared with the kernel's histograms (bpf/log_linear.h), as CLoadGen's module exports it.
final class LogLinearTests: XCTestCase {
    /// The syscall histograms' slots as bpf/syscalls.h describes them, written out independently:
    /// values below 16 exact, then 16 slots per power of two, clamped to the 528th. bits = 5 gives them.
    func testFiveBitsIsTheSyscallHistogramsLayout() {
        func kernelSlot(_ ns: UInt64) -> UInt32 {
            if ns < 16 { return UInt32(ns) }
            let msb = UInt64(63 - ns.leadingZeroBitCount)
            return min(UInt32((msb - 3) * 16 + ((ns >> (msb - 4)) & 15)), 527)
        }
        var values = Array(UInt64(0)..<5000)
        for shift in 0..<64 {
            let power = UInt64(1) << shift
            values += [power - 1, power, power + 1, power + power / 3]
        }
        let mismatches = values.filter { min(ab_log_linear_index(5, $0), 527) != kernelSlot($0) }
        XCTAssertEqual(mismatches, [])
        XCTAssertEqual(ab_log_linear_index(5, (1 << 36) - 1), 527, "528 slots reach 2^36 ns")
    }

    func testBucketsTileTheValuesWithoutGapOrOverlap() {
        for bits: UInt32 in [2, 4, 5, 11] {
            var next: UInt64 = 0
            var broken: [UInt32] = []
            for index in 0..<ab_log_linear_index(bits, 1 << 36) {
                let width = ab_log_linear_width(bits, index)
                if ab_log_linear_lowest(bits, index) != next || ab_log_linear_index(bits, next) != index
                    || ab_log_linear_index(bits, next + width - 1) != index {
                    broken.append(index)
                }
                next += width
            }
            XCTAssertEqual(broken, [], "bits \(bits)")
            XCTAssertEqual(next, 1 << 36, "bits \(bits)")
        }
    }
}
