import Foundation
import TestSupport
import XCTest

/// `archbench probe --alloc [--alloc-sample N]` as a user meets it.
final class AllocCommandTests: XCTestCase {
    let archbench = BuiltProducts.archbench

    func testBadSampleRatesAreUsageErrorsNamingTheFlag() throws {
        for args in [["--alloc", "--alloc-sample", "0"], ["--alloc", "--alloc-sample=-3"], ["--alloc-sample", "8"]] {
            let result = try runToCompletion(archbench, ["probe"] + args + ["--", "/bin/true"])
            XCTAssertEqual(result.status, 2, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--alloc-sample"), "\(args) should name --alloc-sample: \(result.stderr)")
        }
    }

    func testJSONHasAllocationsOnlyWhenAskedFor() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        func processes(_ extra: [String]) throws -> [[String: Any]] {
            let result = try runToCompletion(archbench, ["probe", "--json"] + extra + ["--", BuiltProducts.helper, "getppid", "10"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            return try XCTUnwrap(json["processes"] as? [[String: Any]])
        }
        XCTAssertTrue(try processes([]).allSatisfy { $0["allocations"] == nil })
        let probed = try processes(["--alloc", "--alloc-sample", "16"])
        let allocations = try XCTUnwrap(probed.first?["allocations"] as? [String: Any])
        XCTAssertEqual(allocations["sample_every"] as? Int, 16)
        XCTAssertNotNil(allocations["stacks"] as? [Any])
        XCTAssertNotNil(allocations["estimated_bytes"])
        XCTAssertNotNil(probed.first?["syscalls"], "the other keys stay")
    }
}
