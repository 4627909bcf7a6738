import ArchbenchCore
import Foundation
import XCTest

final class StopFlagTests: XCTestCase {
    func testThePollEndsOnTheTicksReason() {
        let flag = StopFlag<String>()
        var ticks = 0
        let reason = flag.poll(slice: { 0.001 }) {
            ticks += 1
            return ticks == 3 ? "done" : nil
        }
        XCTAssertEqual(reason, "done")
        XCTAssertEqual(ticks, 3)
        XCTAssertEqual(flag.reason, "done")
    }

    func testARaiseFromAnotherThreadEndsTheWaitAtOnceAndTheFirstReasonWins() {
        let flag = StopFlag<String>()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) {
            flag.raise("signal")
            flag.raise("later")
        }
        let started = Date()
        var ticks = 0
        let reason = flag.poll(slice: { 5 }) {
            ticks += 1
            return nil
        }
        XCTAssertEqual(reason, "signal")
        XCTAssertEqual(flag.reason, "signal")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "a raise must not wait for the slice to end")
        XCTAssertEqual(ticks, 0)
    }
}

final class JSONCodingTests: XCTestCase {
    struct Sample: Codable, Equatable {
        var startNs: UInt64
        var path: String
    }

    func testDocumentsUseSnakeCaseSortedKeysAndPlainSlashes() throws {
        let text = try JSONCoding.string(Sample(startNs: 7, path: "/a/b"))
        XCTAssertTrue(text.contains("\"start_ns\" : 7"), text)
        XCTAssertTrue(text.contains("\"/a/b\""), text)
        XCTAssertLessThan(try XCTUnwrap(text.range(of: "path")).lowerBound, try XCTUnwrap(text.range(of: "start_ns")).lowerBound)
        let back = try JSONCoding.decoder().decode(Sample.self, from: Data(text.utf8))
        XCTAssertEqual(back, Sample(startNs: 7, path: "/a/b"))
        let wire = String(decoding: try JSONCoding.encoder(pretty: false).encode(Sample(startNs: 7, path: "/")), as: UTF8.self)
        XCTAssertEqual(wire, "{\"path\":\"/\",\"start_ns\":7}")
    }
}
