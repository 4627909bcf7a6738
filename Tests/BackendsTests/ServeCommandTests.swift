import ArchbenchCore
import Foundation
import TestSupport
import XCTest

/// `archbench serve` as a user meets it: bad input, exit codes, messages.
final class ServeCommandTests: XCTestCase {
    let archbench = BuiltProducts.archbench

    func testPortInUseIsAnEnvironmentErrorNamingThePort() throws {
        let taken = try listeningSocket()
        defer { close(taken.fd) }
        for arguments in [["monolith", "--port", "\(taken.port)"],
                          ["microservices", "--port", "\(taken.port)"],
                          ["microservices", "--port", "0", "--ws-port", "\(taken.port)"]] {
            let result = try runToCompletion(archbench, ["serve"] + arguments, timeout: 60)
            XCTAssertEqual(result.status, 3, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("port \(taken.port) on 127.0.0.1 is already in use"), result.stderr)
            // The services started before the WebSocket one failed are gone too.
            for line in result.stderr.split(separator: "\n") where line.contains(" service listening on ") {
                let pid = try XCTUnwrap(ServerUnderTest.number(in: String(line), after: "pid "))
                XCTAssertTrue(eventually(timeout: 5) { !isAlive(Int32(pid)) }, "left behind: \(line)")
            }
        }
    }

    func testBadFlagsAreUsageErrorsNamingTheFlag() throws {
        let cases: [([String], String)] = [
            (["monolith", "--port", "70000"], "--port 70000"),
            (["monolith", "--port", "abc"], "--port"),
            (["monolith", "--error-rate", "1.5"], "--error-rate 1.5"),
            (["monolith", "--error-rate", "users:0.1"], "only applies to `serve microservices`"),
            (["monolith", "--leak-bytes-per-request=-1"], "--leak-bytes-per-request -1"),
            (["monolith", "--leak-bytes-per-request", "lots"], "--leak-bytes-per-request lots"),
            (["monolith", "--pause-ms", "10"], "--pause-ms needs --pause-every-ms"),
            (["monolith", "--pause-every-ms", "100"], "--pause-every-ms needs --pause-ms"),
            (["monolith", "--pause-every-ms", "100", "--pause-ms", "100"], "--pause-ms 100 must be an integer from 1 to 99"),
            (["monolith", "--slow-ms", "10"], "--slow-ms needs --slow-path"),
            (["monolith", "--slow-ms", "10", "--slow-path", "api"], "--slow-path api must be a path"),
            (["microservices", "--error-rate", "db:0.1"], "unknown service db"),
            (["microservices", "--pause-every-ms", "orders:100", "--pause-ms", "users:10"], "targets users but --pause-every-ms targets orders"),
            (["microservices", "--port", "9000", "--ws-port", "9000"], "--port and --ws-port are both 9000"),
            (["microservices", "--pool-size", "0"], "--pool-size 0"),
            (["microservices", "--upstream-timeout-ms", "0"], "--upstream-timeout-ms 0 must be from 1 to 3600000"),
            (["cluster"], "cluster"),
        ]
        for (arguments, named) in cases {
            let result = try runToCompletion(archbench, ["serve"] + arguments, timeout: 30)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(named), "\(arguments) should name \(named): \(result.stderr)")
        }
    }

    func testHelpListsTheArchitecturesAndFaults() throws {
        let top = try runToCompletion(archbench, ["serve", "--help"])
        XCTAssertEqual(top.status, 0)
        XCTAssertTrue(top.stdout.contains("monolith") && top.stdout.contains("microservices"), top.stdout)
        XCTAssertFalse(top.stdout.contains("service NAME"), "the per-service subcommand is internal")
        let micro = try runToCompletion(archbench, ["serve", "microservices", "--help"])
        for flag in ["--ws-port", "--leak-bytes-per-request", "--pause-every-ms", "--pause-ms", "--slow-ms", "--slow-path", "--error-rate", "--upstream-timeout-ms"] {
            XCTAssertTrue(micro.stdout.contains(flag), "\(flag) missing from: \(micro.stdout)")
        }
    }
}
